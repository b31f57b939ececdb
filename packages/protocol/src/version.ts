/** The product and wire version: set at build time, `dev` when run from source. */
declare const __GANTRY_VERSION__: string | undefined;
/** The commit the build was made from (`git rev-parse`), `unknown` outside a checkout or from source. */
declare const __GANTRY_COMMIT__: string | undefined;
export const version: string = typeof __GANTRY_VERSION__ === 'string' ? __GANTRY_VERSION__ : 'dev';
export const commit: string = typeof __GANTRY_COMMIT__ === 'string' ? __GANTRY_COMMIT__ : 'unknown';
