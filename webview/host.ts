/**
 * The webview's side of the protocol: requests with ids (each settled by the
 * host's `response`), and the state VS Code keeps across hide and reload.
 */
import type { RequestResponse, WebviewRequest, WebviewToHost } from '../src/webview-protocol';

export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  function acquireVsCodeApi(): VsCodeApi;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A request as the views write it: the connection adds the id. */
export type RequestBody = DistributiveOmit<WebviewRequest, 'requestId'>;

export class HostConnection {
  private nextRequestId = 1;
  private readonly pending = new Map<number, (response: RequestResponse) => void>();

  constructor(private readonly api: VsCodeApi) {}

  /** Tells the host the webview listens; nothing comes before this. */
  ready(): void {
    this.api.postMessage({ type: 'ready' });
  }

  /** Tells the host its batch `sequence` was handled. */
  received(sequence: number): void {
    this.api.postMessage({ type: 'received', sequence });
  }

  request(body: RequestBody): Promise<RequestResponse> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      this.pending.set(requestId, resolve);
      this.api.postMessage({ ...body, requestId } as WebviewRequest);
    });
  }

  /** Settles the request a response answers (responses to a previous page are ignored). */
  settle(response: RequestResponse): void {
    const resolve = this.pending.get(response.requestId);
    this.pending.delete(response.requestId);
    resolve?.(response);
  }

  loadState(): unknown {
    return this.api.getState();
  }

  saveState(state: unknown): void {
    this.api.setState(state);
  }
}
