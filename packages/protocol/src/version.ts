/** The product and wire version: set at build time, `dev` when run from source. */
declare const __GANTRY_VERSION__: string | undefined;
export const version: string = typeof __GANTRY_VERSION__ === 'string' ? __GANTRY_VERSION__ : 'dev';
