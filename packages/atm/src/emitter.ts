import type { AtmEventName, AtmEvents } from './types.ts'

type Listener<E extends AtmEventName> = (payload: AtmEvents[E]) => void

export interface Emitter {
  on<E extends AtmEventName>(event: E, listener: Listener<E>): () => void
  emit<E extends AtmEventName>(event: E, payload: AtmEvents[E]): void
}

/**
 * A tiny typed emitter, one per engine (no global state). Listeners run synchronously after the
 * store transaction committed; a listener that throws does not affect the others nor the result.
 */
export function createEmitter(): Emitter {
  const listeners = new Map<AtmEventName, Set<(payload: never) => void>>()
  return {
    on(event, listener) {
      let set = listeners.get(event)
      if (set === undefined) {
        set = new Set()
        listeners.set(event, set)
      }
      const l = listener as (payload: never) => void
      set.add(l)
      return () => {
        set.delete(l)
      }
    },
    emit(event, payload) {
      const set = listeners.get(event)
      if (set === undefined) return
      for (const l of [...set]) {
        try {
          ;(l as Listener<typeof event>)(payload)
        } catch {
          // A UI listener's bug must not undo or hide a committed trust change.
        }
      }
    },
  }
}
