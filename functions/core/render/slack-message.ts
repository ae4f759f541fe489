/**
 * A Slack incoming-webhook payload: Block Kit blocks plus the top-level `text` that
 * notifications and clients without blocks show. Only the block shapes this product sends.
 */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  /** plain_text only: let Slack turn `:emoji:` codes into emoji. */
  readonly emoji?: boolean;
  /** mrkdwn only: `true` stops Slack from auto-linking URLs, channel names and @mentions. */
  readonly verbatim?: boolean;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text?: SlackText; readonly fields?: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }
  | { readonly type: 'divider' };
