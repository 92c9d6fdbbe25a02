import { describe, expect, it } from 'vitest'
import {
  isStoreFailure,
  isVouchError,
  StoreBusyError,
  StoreConnectionError,
  StoreError,
  StoreSchemaTooNewError,
  StoreSerializationError,
} from '../src/contracts/index.ts'

describe('store errors: one class per failure, checked by name', () => {
  const cases = [
    [new StoreError('x'), 'StoreError', false],
    [new StoreBusyError('x'), 'StoreBusyError', true],
    [new StoreConnectionError('x'), 'StoreConnectionError', true],
    [new StoreSerializationError('x', 3), 'StoreSerializationError', true],
    [new StoreSchemaTooNewError('x', 3, 2), 'StoreSchemaTooNewError', false],
  ] as const
  for (const [error, name, retryable] of cases) {
    it(`${name}: literal name, retryable ${retryable}, a store failure and a Vouch error`, () => {
      expect(error.name).toBe(name)
      expect(error.retryable).toBe(retryable)
      expect(isStoreFailure(error)).toBe(true)
      expect(isVouchError(error)).toBe(true)
    })
  }
  it('a copy of the class from another package instance matches by name (no instanceof)', () => {
    const foreign = Object.assign(new Error('x'), { name: 'StoreSerializationError', rule: undefined })
    expect(isStoreFailure(foreign)).toBe(true)
    expect(isStoreFailure(new Error('x'))).toBe(false)
    expect(isStoreFailure(Object.assign(new Error('x'), { name: 'StoreLost' }))).toBe(false)
  })
  it('StoreSerializationError and StoreSchemaTooNewError carry their fields', () => {
    expect(new StoreSerializationError('x', 4).attempts).toBe(4)
    const e = new StoreSchemaTooNewError('x', 3, 2)
    expect([e.schemaVersion, e.supportedVersion]).toEqual([3, 2])
  })
})
