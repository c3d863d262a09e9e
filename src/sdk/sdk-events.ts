import type { ShadowgateEvent, ShadowgateEventType } from './sdk-types.js';

export type Listener<T extends ShadowgateEventType> = (event: Extract<ShadowgateEvent, { type: T }>) => void;

/**
 * Events for the service to log. A listener that throws is the service's own bug, but
 * it must not break the SDK's loops: its error is swallowed here.
 */
export class SdkEvents {
  private readonly listeners = new Map<ShadowgateEventType, Set<(event: ShadowgateEvent) => void>>();

  constructor(private readonly onEvent?: (event: ShadowgateEvent) => void) {}

  on<T extends ShadowgateEventType>(type: T, listener: Listener<T>): void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener as (event: ShadowgateEvent) => void);
    this.listeners.set(type, set);
  }

  off<T extends ShadowgateEventType>(type: T, listener: Listener<T>): void {
    this.listeners.get(type)?.delete(listener as (event: ShadowgateEvent) => void);
  }

  emit(event: ShadowgateEvent): void {
    try {
      this.onEvent?.(event);
    } catch {
      // see the class comment
    }
    for (const listener of this.listeners.get(event.type) ?? []) {
      try {
        listener(event);
      } catch {
        // see the class comment
      }
    }
  }
}
