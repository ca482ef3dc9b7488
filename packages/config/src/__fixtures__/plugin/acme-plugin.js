// A stand-in plugin module for the loader tests: a real plugin exports its registry container module.
export const PLUGIN_NAME = 'acme-plugin';
export const components = ['acme.SparseHead'];
