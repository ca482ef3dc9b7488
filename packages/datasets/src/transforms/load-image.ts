// SPDX-License-Identifier: Apache-2.0
/**
 * `LoadImageFromFile` (registry key `LoadImageFromFile`, scope `transforms`): reads `results.imgPath` and decodes
 * it like mmcv's `imfrombytes` with the cv2 backend: uint8 HWC in **BGR** order, `imgShape` = `oriShape` = [h, w].
 *
 * Decoding is `decodeImage` (decode-image.ts): equal to `cv2.imdecode` (OpenCV 4.6.0) for JPEG, PNG, TIFF, WebP,
 * BMP and PNM under every `color_type` (see the decode fixtures and docs/datasets.md); sharp does most of it on
 * libuv threads, so decoding does not block the event loop.
 *
 * Node-only (sharp, fs). Failures throw a `DatasetError` naming the file (or return null with `ignore_empty`).
 */
import { readFile } from 'node:fs/promises';
import { DatasetError, defineOptions, resolveOptions, typed, type BuildContext, type OptionsInput, type RandomSource, type ResolvedOptions, type Transform } from '@solo-ts/core';
import type { ImageU8 } from '@solo-ts/ops';
import { decodeImage, type ColorType } from './decode-image.js';
import type { PipelineResults } from './results.js';

export type { ColorType } from './decode-image.js';

/** The options of {@link LoadImageFromFile} (mmcv `LoadImageFromFile.__init__`), declared once. */
export const loadImageFromFileOptions = defineOptions({
  to_float32: { type: 'boolean', default: false, doc: 'cast to float32 (not supported: false only; the data preprocessor converts)' },
  color_type: {
    type: 'string',
    default: 'color',
    enum: ['color', 'color_ignore_orientation', 'grayscale', 'grayscale_ignore_orientation', 'unchanged'],
    doc: 'cv2 imread flag: color (3 channels, EXIF orientation applied), grayscale, unchanged, *_ignore_orientation',
  },
  imdecode_backend: { type: 'string', default: 'cv2', enum: ['cv2'], doc: 'mmcv decoder name; only cv2 (emulated)' },
  ignore_empty: { type: 'boolean', default: false, doc: 'drop the sample (return null) instead of failing on unreadable files' },
  backend_args: typed<{ backend?: string }>()({ type: 'object', nullable: true, default: null, doc: 'mmengine file backend settings; local files only' }),
  file_client_args: typed<{ backend?: string }>()({ type: 'object', nullable: true, default: null, doc: 'deprecated mmengine file client settings; local disk only' }),
});
/** Resolved options of {@link LoadImageFromFile}. */
export type LoadImageFromFileOptions = ResolvedOptions<typeof loadImageFromFileOptions>;

export class LoadImageFromFile implements Transform<PipelineResults> {
  static readonly type = 'LoadImageFromFile';
  static readonly description = 'Read and decode the image file (cv2 semantics: uint8, BGR, HWC).';
  static readonly options = loadImageFromFileOptions;

  readonly colorType: ColorType;
  readonly ignoreEmpty: boolean;

  constructor(input: OptionsInput<typeof loadImageFromFileOptions> = {}, _ctx?: BuildContext) {
    const options = resolveOptions(loadImageFromFileOptions, input, 'LoadImageFromFile');
    if (options.toFloat32) {
      throw new DatasetError('LoadImageFromFile: to_float32 is not supported (images stay uint8; DetDataPreprocessor converts them)');
    }
    const backend = options.backendArgs?.backend;
    if (backend && backend !== 'local') {
      throw new DatasetError(`LoadImageFromFile: backend_args.backend "${backend}" is not supported (local files only)`);
    }
    const client = options.fileClientArgs?.backend;
    if (client && client !== 'disk' && client !== 'local') {
      throw new DatasetError(`LoadImageFromFile: file_client_args.backend "${client}" is not supported (local disk only)`);
    }
    this.colorType = options.colorType;
    this.ignoreEmpty = options.ignoreEmpty;
  }

  async transform(results: PipelineResults, _rng?: RandomSource): Promise<PipelineResults | null> {
    const file = results.imgPath;
    if (typeof file !== 'string') throw new DatasetError('LoadImageFromFile: the sample has no `imgPath`');
    let img: ImageU8;
    let stage = 'read';
    try {
      const bytes = await readFile(file);
      stage = 'decode';
      img = await decodeImage(bytes, this.colorType);
    } catch (e) {
      if (this.ignoreEmpty) return null;
      const code = (e as { code?: string }).code;
      const why =
        stage === 'decode'
          ? `cannot decode image: ${(e as Error).message}`
          : code === 'ENOENT'
            ? 'file not found'
            : code === 'EISDIR'
              ? 'is a directory'
              : `cannot read the file: ${(e as Error).message}`;
      throw new DatasetError(`failed to load image ${file}: ${why}`, { location: { file }, cause: e });
    }
    results.img = img;
    results.imgShape = [img.height, img.width];
    results.oriShape = [img.height, img.width];
    return results;
  }
}
