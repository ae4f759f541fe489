import type { Remediation } from '../diagnosis';
import { shellQuote } from '../shell';
import type { Endpoint } from '../taxonomy';

/**
 * A TypeScript (CDK) string literal: JSON's escaping, plus U+2028 and U+2029, which JSON
 * leaves raw and which end a `//` comment line in JavaScript.
 */
function ts(value: string): string {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * A Terraform (HCL) quoted string: JSON's escaping in the forms HCL knows (it has no `\b` or
 * `\f`), and `${` / `%{` doubled, or Terraform would evaluate them as interpolation or a
 * directive (a value `${file("~/.aws/credentials")}` must stay text).
 */
function hcl(value: string): string {
  return ts(value)
    .replace(/\\(.)/g, (sequence, c: string) => (c === 'b' ? '\\u0008' : c === 'f' ? '\\u000c' : sequence))
    .replace(/([$%])\{/g, '$1$1{');
}

/** A value named in a Terraform or CDK comment: bare when it is a plain id, else quoted, so it cannot end the comment's line. */
function mention(value: string): string {
  return /^[A-Za-z0-9_.:/-]+$/.test(value) ? value : ts(value);
}

/**
 * AWS CLI shorthand splits on `,` and `=` and nests on brackets and braces, so a value holding
 * one of them would add or change fields (`sg-1}],IpRanges=[{CidrIp=0.0.0.0/0`): such values
 * switch the argument to JSON, which keeps every value intact.
 */
const SHORTHAND_SAFE = /^[A-Za-z0-9_.:/@+-]+$/;

/** An AWS CLI structure argument, shell-quoted: shorthand (as people write it) while every value is plain, else JSON. */
export function cliStructure(shorthand: string, json: unknown, values: readonly string[]): string {
  return shellQuote(values.every((v) => SHORTHAND_SAFE.test(v)) ? shorthand : JSON.stringify(json));
}

function identifier(endpoint: string): string {
  return endpoint.replace(/[^a-z0-9]+/gi, '_');
}

function pascal(endpoint: string): string {
  return endpoint
    .split(/[^a-z0-9]+/i)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Creates a missing interface endpoint in the task's subnets, with private DNS. */
export function createInterfaceEndpointFix(args: {
  region: string;
  vpcId: string;
  endpoint: Endpoint;
  subnetIds: readonly string[];
  securityGroupIds: readonly string[];
}): Remediation {
  const service = `com.amazonaws.${args.region}.${args.endpoint}`;
  const sgs = args.securityGroupIds.length > 0 ? args.securityGroupIds : ['<endpoint-security-group-id>'];
  const q = (values: readonly string[]) => values.map(shellQuote).join(' ');
  return {
    summary: `Create the ${service} interface endpoint with private DNS in ${args.vpcId}`,
    cli: [
      `aws ec2 create-vpc-endpoint --region ${shellQuote(args.region)} --vpc-id ${shellQuote(args.vpcId)}`,
      `--vpc-endpoint-type Interface --service-name ${shellQuote(service)}`,
      `--subnet-ids ${q(args.subnetIds)} --security-group-ids ${q(sgs)} --private-dns-enabled`,
    ].join(' '),
    terraform: [
      `resource "aws_vpc_endpoint" ${hcl(identifier(args.endpoint))} {`,
      `  vpc_id              = ${hcl(args.vpcId)}`,
      `  service_name        = ${hcl(service)}`,
      `  vpc_endpoint_type   = "Interface"`,
      `  subnet_ids          = [${args.subnetIds.map(hcl).join(', ')}]`,
      `  security_group_ids  = [${sgs.map(hcl).join(', ')}]`,
      '  private_dns_enabled = true',
      '}',
    ].join('\n'),
    cdk: [
      `new ec2.InterfaceVpcEndpoint(this, ${ts(`${pascal(args.endpoint)}Endpoint`)}, {`,
      `  vpc: ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: ${ts(args.vpcId)} }),`,
      `  service: new ec2.InterfaceVpcEndpointAwsService(${ts(args.endpoint)}),`,
      `  subnets: { subnetFilters: [ec2.SubnetFilter.byIds([${args.subnetIds.map(ts).join(', ')}])] },`,
      `  securityGroups: [${sgs.map((sg, i) => `ec2.SecurityGroup.fromSecurityGroupId(this, ${ts(`EndpointSg${i}`)}, ${ts(sg)})`).join(', ')}],`,
      '  privateDnsEnabled: true,',
      '});',
    ].join('\n'),
  };
}

/** Turns on private DNS for an existing interface endpoint. */
export function enablePrivateDnsFix(args: { region: string; vpcEndpointId: string; endpoint: Endpoint }): Remediation {
  return {
    summary: `Turn on private DNS for ${args.vpcEndpointId} (${args.endpoint})`,
    cli: `aws ec2 modify-vpc-endpoint --region ${shellQuote(args.region)} --vpc-endpoint-id ${shellQuote(args.vpcEndpointId)} --private-dns-enabled`,
    terraform: `# on the aws_vpc_endpoint for ${mention(args.vpcEndpointId)}\n  private_dns_enabled = true`,
    cdk: '// on the InterfaceVpcEndpoint\nprivateDnsEnabled: true,',
  };
}

/** Associates the s3 gateway endpoint with the task subnet's route table, or creates it. */
export function s3GatewayFix(args: {
  region: string;
  vpcId: string;
  routeTableId: string;
  vpcEndpointId?: string;
}): Remediation {
  const service = `com.amazonaws.${args.region}.s3`;
  if (args.vpcEndpointId) {
    return {
      summary: `Associate the s3 gateway endpoint ${args.vpcEndpointId} with route table ${args.routeTableId}`,
      cli: `aws ec2 modify-vpc-endpoint --region ${shellQuote(args.region)} --vpc-endpoint-id ${shellQuote(args.vpcEndpointId)} --add-route-table-ids ${shellQuote(args.routeTableId)}`,
      terraform: [
        'resource "aws_vpc_endpoint_route_table_association" "s3" {',
        `  vpc_endpoint_id = ${hcl(args.vpcEndpointId)}`,
        `  route_table_id  = ${hcl(args.routeTableId)}`,
        '}',
      ].join('\n'),
      cdk: `new ec2.CfnVPCEndpoint(this, 'S3Gateway', { vpcId: ${ts(args.vpcId)}, serviceName: ${ts(service)}, vpcEndpointType: 'Gateway', routeTableIds: [${ts(args.routeTableId)}] }); // or add ${mention(args.routeTableId)} to the existing endpoint's routeTableIds`,
    };
  }
  return {
    summary: `Create the ${service} gateway endpoint on route table ${args.routeTableId}`,
    cli: `aws ec2 create-vpc-endpoint --region ${shellQuote(args.region)} --vpc-id ${shellQuote(args.vpcId)} --vpc-endpoint-type Gateway --service-name ${shellQuote(service)} --route-table-ids ${shellQuote(args.routeTableId)}`,
    terraform: [
      'resource "aws_vpc_endpoint" "s3" {',
      `  vpc_id            = ${hcl(args.vpcId)}`,
      `  service_name      = ${hcl(service)}`,
      '  vpc_endpoint_type = "Gateway"',
      `  route_table_ids   = [${hcl(args.routeTableId)}]`,
      '}',
    ].join('\n'),
    cdk: `new ec2.CfnVPCEndpoint(this, 'S3Gateway', { vpcId: ${ts(args.vpcId)}, serviceName: ${ts(service)}, vpcEndpointType: 'Gateway', routeTableIds: [${ts(args.routeTableId)}] });`,
  };
}

/** Turns on a VPC DNS attribute. */
export function vpcDnsFix(args: {
  region: string;
  vpcId: string;
  attribute: 'enableDnsSupport' | 'enableDnsHostnames';
}): Remediation {
  const flag = args.attribute === 'enableDnsSupport' ? 'enable-dns-support' : 'enable-dns-hostnames';
  const tf = args.attribute === 'enableDnsSupport' ? 'enable_dns_support' : 'enable_dns_hostnames';
  return {
    summary: `Turn on ${args.attribute} for ${args.vpcId}`,
    cli: `aws ec2 modify-vpc-attribute --region ${shellQuote(args.region)} --vpc-id ${shellQuote(args.vpcId)} --${flag} '{"Value":true}'`,
    terraform: `# on the aws_vpc for ${mention(args.vpcId)}\n  ${tf} = true`,
    cdk: `// on the ec2.Vpc\n${args.attribute}: true,`,
  };
}

/** The other side of a security group rule: another group, a CIDR, or a managed prefix list. */
export type RulePeer = { readonly groupId: string } | { readonly cidr: string } | { readonly prefixListId: string };

/**
 * Adds a TCP rule (HTTPS 443 unless told otherwise) to a security group: inbound on an
 * endpoint's or mount target's group from the task, or outbound on the task's group to
 * endpoints, S3, the internet or an EFS mount target (NFS 2049).
 */
export function securityGroupHttpsFix(args: {
  region: string;
  groupId: string;
  direction: 'ingress' | 'egress';
  peer: RulePeer;
  port?: number;
}): Remediation {
  const { peer } = args;
  const port = args.port ?? 443;
  const label = port === 2049 ? 'nfs' : port === 443 ? 'https' : `tcp_${port}`;
  const side =
    'groupId' in peer
      ? {
          cli: `UserIdGroupPairs=[{GroupId=${peer.groupId}}]`,
          json: { UserIdGroupPairs: [{ GroupId: peer.groupId }] },
          tf: `referenced_security_group_id = ${hcl(peer.groupId)}`,
          cdk: `ec2.Peer.securityGroupId(${ts(peer.groupId)})`,
          text: peer.groupId,
        }
      : 'prefixListId' in peer
        ? {
            cli: `PrefixListIds=[{PrefixListId=${peer.prefixListId}}]`,
            json: { PrefixListIds: [{ PrefixListId: peer.prefixListId }] },
            tf: `prefix_list_id = ${hcl(peer.prefixListId)}`,
            cdk: `ec2.Peer.prefixList(${ts(peer.prefixListId)})`,
            text: peer.prefixListId,
          }
        : {
            cli: `IpRanges=[{CidrIp=${peer.cidr}}]`,
            json: { IpRanges: [{ CidrIp: peer.cidr }] },
            tf: `cidr_ipv4 = ${hcl(peer.cidr)}`,
            cdk: `ec2.Peer.ipv4(${ts(peer.cidr)})`,
            text: peer.cidr,
          };
  const inbound = args.direction === 'ingress';
  return {
    summary: `Allow ${inbound ? 'inbound' : 'outbound'} TCP ${port} on ${args.groupId} ${inbound ? 'from' : 'to'} ${side.text}`,
    cli: `aws ec2 authorize-security-group-${args.direction} --region ${shellQuote(args.region)} --group-id ${shellQuote(args.groupId)} --ip-permissions ${cliStructure(`IpProtocol=tcp,FromPort=${port},ToPort=${port},${side.cli}`, [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, ...side.json }], [side.text])}`,
    terraform: [
      `resource "aws_vpc_security_group_${args.direction}_rule" "${label}_${inbound ? 'from_task' : 'out'}" {`,
      `  security_group_id = ${hcl(args.groupId)}`,
      '  ip_protocol       = "tcp"',
      `  from_port         = ${port}`,
      `  to_port           = ${port}`,
      `  ${side.tf}`,
      '}',
    ].join('\n'),
    cdk: `ec2.SecurityGroup.fromSecurityGroupId(this, ${ts(inbound ? (port === 2049 ? 'MountTargetSg' : 'EndpointSg') : 'TaskSg')}, ${ts(args.groupId)}).add${inbound ? 'Ingress' : 'Egress'}Rule(${side.cdk}, ec2.Port.tcp(${port}));`,
  };
}

/** Creates the EFS mount target a file system lacks in the task's Availability Zone. */
export function createMountTargetFix(args: {
  region: string;
  fileSystemId: string;
  subnetId: string;
  securityGroupIds: readonly string[];
}): Remediation {
  const sgs = args.securityGroupIds.length > 0 ? args.securityGroupIds : ['<mount-target-security-group-id>'];
  return {
    summary: `Create a mount target for ${args.fileSystemId} in ${args.subnetId}`,
    cli: `aws efs create-mount-target --region ${shellQuote(args.region)} --file-system-id ${shellQuote(args.fileSystemId)} --subnet-id ${shellQuote(args.subnetId)} --security-groups ${sgs.map(shellQuote).join(' ')}`,
    terraform: [
      `resource "aws_efs_mount_target" ${hcl(identifier(args.subnetId))} {`,
      `  file_system_id  = ${hcl(args.fileSystemId)}`,
      `  subnet_id       = ${hcl(args.subnetId)}`,
      `  security_groups = [${sgs.map(hcl).join(', ')}]`,
      '}',
    ].join('\n'),
    cdk: `new efs.CfnMountTarget(this, ${ts(`MountTarget${identifier(args.subnetId)}`)}, { fileSystemId: ${ts(args.fileSystemId)}, subnetId: ${ts(args.subnetId)}, securityGroups: [${sgs.map(ts).join(', ')}] });`,
  };
}

/** Adds a NACL entry allowing TCP on a port range. */
export function naclEntryFix(args: {
  region: string;
  networkAclId: string;
  direction: 'ingress' | 'egress';
  from: number;
  to: number;
  cidr: string;
  ruleNumber: number;
}): Remediation {
  return {
    summary: `Allow ${args.direction} TCP ${args.from}-${args.to} ${args.direction === 'ingress' ? 'from' : 'to'} ${args.cidr} in ${args.networkAclId}`,
    cli: `aws ec2 create-network-acl-entry --region ${shellQuote(args.region)} --network-acl-id ${shellQuote(args.networkAclId)} --${args.direction} --rule-number ${args.ruleNumber} --protocol tcp --port-range From=${args.from},To=${args.to} --cidr-block ${shellQuote(args.cidr)} --rule-action allow`,
    terraform: [
      `resource "aws_network_acl_rule" "${args.direction}_${args.from}_${args.to}" {`,
      `  network_acl_id = ${hcl(args.networkAclId)}`,
      `  rule_number    = ${args.ruleNumber}`,
      `  egress         = ${args.direction === 'egress'}`,
      '  protocol       = "tcp"',
      '  rule_action    = "allow"',
      `  cidr_block     = ${hcl(args.cidr)}`,
      `  from_port      = ${args.from}`,
      `  to_port        = ${args.to}`,
      '}',
    ].join('\n'),
    cdk: `new ec2.CfnNetworkAclEntry(this, 'NaclEntry${args.ruleNumber}', { networkAclId: ${ts(args.networkAclId)}, ruleNumber: ${args.ruleNumber}, egress: ${args.direction === 'egress'}, protocol: 6, ruleAction: 'allow', cidrBlock: ${ts(args.cidr)}, portRange: { from: ${args.from}, to: ${args.to} } });`,
  };
}

/** Routes the subnet's internet traffic through a NAT gateway. */
export function natRouteFix(args: { region: string; routeTableId: string }): Remediation {
  return {
    summary: `Route 0.0.0.0/0 from ${args.routeTableId} to a NAT gateway (in a public subnet of the VPC)`,
    cli: `aws ec2 create-route --region ${shellQuote(args.region)} --route-table-id ${shellQuote(args.routeTableId)} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-gateway-id>`,
    terraform: [
      'resource "aws_route" "default_via_nat" {',
      `  route_table_id         = ${hcl(args.routeTableId)}`,
      '  destination_cidr_block = "0.0.0.0/0"',
      '  nat_gateway_id         = aws_nat_gateway.this.id',
      '}',
    ].join('\n'),
    cdk: `new ec2.CfnRoute(this, 'DefaultViaNat', { routeTableId: ${ts(args.routeTableId)}, destinationCidrBlock: '0.0.0.0/0', natGatewayId: natGateway.ref });`,
  };
}

/** Gives a service's tasks a public IP (public subnet routed to an internet gateway). */
export function assignPublicIpFix(args: {
  region: string;
  cluster: string;
  service: string;
  subnetId: string;
  securityGroupIds: readonly string[];
}): Remediation {
  const config = cliStructure(
    `awsvpcConfiguration={subnets=[${args.subnetId}],securityGroups=[${args.securityGroupIds.join(',')}],assignPublicIp=ENABLED}`,
    {
      awsvpcConfiguration: {
        subnets: [args.subnetId],
        securityGroups: [...args.securityGroupIds],
        assignPublicIp: 'ENABLED',
      },
    },
    [args.subnetId, ...args.securityGroupIds],
  );
  return {
    summary: `Give the tasks of ${args.service} a public IP (assignPublicIp=ENABLED), or move them to a private subnet with a NAT gateway`,
    cli: `aws ecs update-service --region ${shellQuote(args.region)} --cluster ${shellQuote(args.cluster)} --service ${shellQuote(args.service)} --network-configuration ${config}`,
    terraform: '# in the aws_ecs_service network_configuration block\n  assign_public_ip = true',
    cdk: '// on the ecs.FargateService\nassignPublicIp: true,',
  };
}

/** A container instance in a public subnet without a public IP: new instances need one, or a NAT gateway. */
export function instancePublicIpFix(args: { region: string; subnetId: string }): Remediation {
  return {
    summary: `Launch the container instances with a public IP (a launch template setting wins over the subnet's default), or move them to a private subnet with a NAT gateway; running instances keep their addresses, so replace them`,
    cli: `aws ec2 modify-subnet-attribute --region ${shellQuote(args.region)} --subnet-id ${shellQuote(args.subnetId)} --map-public-ip-on-launch`,
    terraform: '# in the aws_launch_template network_interfaces block\n  associate_public_ip_address = true',
    cdk: '// on the ec2.LaunchTemplate of the Auto Scaling group\nassociatePublicIpAddress: true,',
  };
}
