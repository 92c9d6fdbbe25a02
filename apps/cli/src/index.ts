/**
 * @packageDocumentation
 * @vouch/cli: The vouch command-line tool and demo (composition root)
 */
export {}
