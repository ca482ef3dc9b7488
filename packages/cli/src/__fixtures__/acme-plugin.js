// A third-party plugin for the CLI plugin-loading test: exports one ComponentModule with one loss.
import { ComponentModule } from '@solo-ts/core';

class AcmeLoss {
  static type = 'acme.AcmeLoss';
}

export const acmeComponents = new ComponentModule('acme-plugin', [{ scope: 'models', component: AcmeLoss }]);
