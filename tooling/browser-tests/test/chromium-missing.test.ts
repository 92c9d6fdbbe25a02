import { it } from 'vitest'
import { CHROMIUM_MISSING } from '../src/index.ts'

// Runs only when Chromium is missing (vitest.config.ts): says so in the report instead of passing.
it.skip(CHROMIUM_MISSING, () => {})
