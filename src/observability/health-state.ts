/**
 * Liveness and readiness of the process, fed by the composition root: started, backend
 * up or down, shutting down. Readiness is false before start, while the backend is down,
 * and from the first moment of shutdown (so a load balancer stops routing before the
 * listeners close).
 */
import type { BackendStatus } from '../core/ports.js';

export interface HealthSnapshot {
  readonly live: boolean;
  readonly ready: boolean;
  readonly phase: 'starting' | 'running' | 'closing';
  readonly backend: { readonly name: string; readonly up: boolean };
}

export class HealthState {
  readonly #backendName: string;
  #phase: HealthSnapshot['phase'] = 'starting';
  #backendUp = false;

  constructor(backendName: string) {
    this.#backendName = backendName;
  }

  markRunning(): void {
    if (this.#phase === 'starting') this.#phase = 'running';
  }

  markClosing(): void {
    this.#phase = 'closing';
  }

  setBackendStatus(status: BackendStatus): void {
    this.#backendUp = status.type === 'up';
  }

  get ready(): boolean {
    return this.#phase === 'running' && this.#backendUp;
  }

  snapshot(): HealthSnapshot {
    return {
      live: true,
      ready: this.ready,
      phase: this.#phase,
      backend: { name: this.#backendName, up: this.#backendUp },
    };
  }
}
