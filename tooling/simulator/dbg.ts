import { buildTree } from './test/worlds.ts'
import { formatSteps } from './src/index.ts'
const b = await buildTree({
  accounts: [2, 1],
  seed: 1,
  adversary: { reorder: false, duplicate: 0, dropToArchive: 0, maxDelay: 50 },
  offline: false,
})
console.log(b.pairs)
const net = b.net
await net.distrust('a/1', 'b/1')
await net.authenticate('a/1', 'b/1')
await net.distrust('a/2', 'b/1')
await net.run()
console.log(formatSteps(net).join('\n'))
console.log(await net.matrix())
for (const d of net.deliveries) console.log(d)
