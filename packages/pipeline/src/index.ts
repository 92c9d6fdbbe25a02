/**
 * @packageDocumentation
 * `@vouch/pipeline`: the one receive pipeline (dedup → decrypt → parse → ATM, in one
 * transaction per message or archive page), with no network code. `@vouch/xmpp` and the
 * simulator feed it.
 */
export type {
  EncryptedCandidate,
  ReceivedCopy,
  ReceiveLimits,
  ReceiveOptions,
  ReceiveOutcome,
  ReceivePipeline,
  ReceivePipelineInit,
} from './pipeline.ts'
export { checkEncrypted, chooseEncrypted, DEFAULT_RECEIVE_LIMITS, receivePipeline } from './pipeline.ts'
export { isProcessed, markProcessed, PROCESSED_STATE_NAMESPACE, processedCount } from './processed.ts'
