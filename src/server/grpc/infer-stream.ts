// One ModelStreamInfer call (bidirectional, non-decoupled): each request gets exactly one response,
// written in the order the requests arrived; a request that fails gets its error as error_message
// (with its id) and the stream goes on. Requests run concurrently up to a bound, past which the
// stream stops reading until answers go out (flow control pushes back on the client).

import * as grpc from '@grpc/grpc-js';
import type * as m from '../../backends/triton/messages';
import type { MessageInit } from '../../backends/triton/proto';
import type { Logger } from '../../observability/logger';
import { callStatusOf } from './grpc-errors';

export type StreamCall = grpc.ServerDuplexStream<m.ModelInferRequest, MessageInit<m.ModelStreamInferResponse>>;
export type RunInfer = (req: m.ModelInferRequest, signal: AbortSignal) => Promise<MessageInit<m.ModelInferResponse>>;

/** Requests of one stream being run at once; past it the stream pauses. */
export const DEFAULT_STREAM_IN_FLIGHT = 64;

export class InferStream {
  private inFlight = 0;
  private paused = false;
  private clientEnded = false;
  private draining = false;
  private finished = false;
  /** Answers leave in arrival order: each waits for the one before it. */
  private tail: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(
    private readonly call: StreamCall,
    private readonly run: RunInfer,
    private readonly logger: Logger,
    private readonly onFinished: () => void,
    private readonly maxInFlight = DEFAULT_STREAM_IN_FLIGHT,
  ) {
    call.on('data', (req: m.ModelInferRequest) => this.accept(req));
    call.on('end', () => {
      this.clientEnded = true;
      this.maybeFinish();
    });
    // The client went away: nobody reads the answers, so stop the work.
    const gone = () => {
      this.abort.abort();
      this.finish();
    };
    call.on('cancelled', gone);
    call.on('error', gone);
  }

  /** Server shutdown: answer what has been read, then end the stream; read nothing more. */
  drain(): void {
    this.draining = true;
    this.call.pause();
    this.maybeFinish();
  }

  private accept(req: m.ModelInferRequest): void {
    if (this.finished || this.draining) return;
    this.inFlight++;
    if (this.inFlight >= this.maxInFlight && !this.paused) {
      this.paused = true;
      this.call.pause();
    }
    const answer = this.run(req, this.abort.signal).then(
      (infer_response): MessageInit<m.ModelStreamInferResponse> => ({ error_message: '', infer_response }),
      (err: unknown): MessageInit<m.ModelStreamInferResponse> => ({
        error_message: callStatusOf(err, 'ModelStreamInfer', this.logger).details,
        // The id lets a client that pipelines requests tell which one failed.
        infer_response: { model_name: req.model_name, model_version: req.model_version, id: req.id },
      }),
    );
    this.tail = this.tail.then(async () => {
      const message = await answer;
      try {
        if (!this.finished) this.call.write(message);
      } catch (err) {
        this.logger.log('error', 'grpc.internal_error', { method: 'ModelStreamInfer', error: String(err) });
      }
      this.inFlight--;
      if (this.paused && this.inFlight < this.maxInFlight && !this.draining) {
        this.paused = false;
        this.call.resume();
      }
      this.maybeFinish();
    });
  }

  private maybeFinish(): void {
    if (this.finished || this.inFlight > 0 || !(this.clientEnded || this.draining)) return;
    if (this.clientEnded) {
      this.call.end();
    } else {
      // Requests the client may still be sending will not be read: say so instead of a plain OK.
      this.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down; this stream takes no more requests' });
    }
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinished();
  }
}
