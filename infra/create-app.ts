import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { checkerPropsFrom, referenceVpcPropsFrom } from './context';
import { CheckerStack } from './stacks/checker-stack';
import { ReferenceVpcStack } from './stacks/reference-vpc-stack';

/** Stack names: deploy one, the other, or both (`--all`). */
export const CHECKER_STACK = 'EcsStopDoctor';
export const REFERENCE_VPC_STACK = 'EcsStopDoctorReferenceVpc';

/** Options of {@link createApp}. */
export interface CreateAppOptions extends AppProps {
  /**
   * Run cdk-nag's AwsSolutions and Serverless packs at synth: an unacknowledged finding fails it.
   * @default true
   */
  readonly nag?: boolean;
}

/**
 * The CDK app: the checker stack and the reference VPC stack, both environment-agnostic
 * (they synthesize with no AWS credentials and deploy to the CLI's account and Region).
 */
export function createApp(options: CreateAppOptions = {}): {
  app: App;
  checker: CheckerStack;
  referenceVpc: ReferenceVpcStack;
} {
  const { nag = true, ...appProps } = options;
  const app = new App(appProps);
  const read = (key: string): unknown => app.node.tryGetContext(key);
  const checker = new CheckerStack(app, CHECKER_STACK, checkerPropsFrom(read));
  const { sampleService, ...network } = referenceVpcPropsFrom(read);
  const referenceVpc = new ReferenceVpcStack(app, REFERENCE_VPC_STACK, {
    network,
    ...(sampleService !== undefined ? { sampleService } : {}),
  });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, checker, referenceVpc };
}
