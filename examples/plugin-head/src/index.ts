// SPDX-License-Identifier: Apache-2.0
/**
 * @acme/solo-plugin-head: an example third-party solo-ts plugin. It exports a `ComponentModule`; a config that
 * lists this package under `custom_imports.imports` can use `type: acme.SOLOV2BoundaryHead`.
 */
import { component, ComponentModule } from '@solo-ts/core';
import { SOLOV2BoundaryHead } from './boundary-head.js';

export { SOLOV2BoundaryHead, boundaryBand, boundaryHeadOptions, type SOLOV2BoundaryHeadInput, type SOLOV2BoundaryHeadOptions } from './boundary-head.js';

/** The plugin's components (namespaced keys, so they never collide with solo-ts's own). */
export const acmeComponents = new ComponentModule('@acme/solo-plugin-head', [component('models', SOLOV2BoundaryHead)], '^0.1.0');
