/**
 * @packageDocumentation
 * `@vouch/consumer-install` (private): the published packages as an outside project gets them —
 * packed tarballs, checked by publint and attw, installed outside the workspace, each README's
 * quick start typechecked and run in Node and bundled for (and run in) the browser.
 */
export type { PublishedPackage } from './manifests.ts'
export { fixManifest, manifestProblems, publishedPackages, REPOSITORY_URL, ROOT } from './manifests.ts'
export type { QuickStartPlan } from './quick-start.ts'
export { PLANS, readQuickStart } from './quick-start.ts'
