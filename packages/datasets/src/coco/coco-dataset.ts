// SPDX-License-Identifier: Apache-2.0
/**
 * `CocoDataset` (registry key `CocoDataset`, scope `datasets`): a COCO instances file plus a pipeline, with
 * mmdetection 3.x rules (see `data-list.ts`) and mmengine's path handling (`ann_file` and `data_prefix.img`
 * are joined to `data_root` unless absolute).
 *
 * Bad input gives a `DatasetError` naming the file and the annotation (malformed JSON with line and column,
 * missing keys, wrong types, NaN coordinates, duplicate image/annotation/category ids, unknown segmentation
 * formats, RLE of the wrong size). Annotations mmdetection would silently drop (image id that points nowhere,
 * undeclared category) are skipped with one warning per kind.
 *
 * Node-only (reads the file with fs); the parsing itself (`scanCoco`, `buildDataList`) is browser-safe.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { COCO_INSTANCES, parseJsonText } from '@solo-ts/cocoapi';
import { DatasetError, SoloError, defineOptions, resolveOptions, typed, type BuildContext, type OptionsInput, type RandomSource, type ResolvedOptions } from '@solo-ts/core';
import { Compose } from '../transforms/compose.js';
import type { PipelineResults } from '../transforms/results.js';
import { buildDataList, defaultPalette, type FilterCfg } from './data-list.js';
import { scanCoco, type CocoProblem } from './parse.js';
import type { CocoDataInfo, CocoMetainfo } from './types.js';

/** `filter_cfg` of mmdet's CocoDataset (either spelling). */
export interface CocoFilterCfg {
  filter_empty_gt?: boolean;
  min_size?: number;
  filterEmptyGt?: boolean;
  minSize?: number;
}

/** The options of {@link CocoDataset} (mmdet `CocoDataset` / mmengine `BaseDataset.__init__`), declared once. */
export const cocoDatasetOptions = defineOptions({
  ann_file: { type: 'string', required: true, doc: 'COCO instances JSON (relative to data_root unless absolute)' },
  data_root: { type: 'string', nullable: true, default: null, doc: 'root directory joined to ann_file and data_prefix' },
  data_prefix: typed<{ img?: string; seg?: string; [k: string]: unknown }>()({ type: 'object', default: { img: '' }, doc: '{img: images directory} (relative to data_root)' }),
  metainfo: typed<{ classes?: string[]; palette?: [number, number, number][] }>()({
    type: 'object',
    nullable: true,
    default: null,
    doc: '{classes: [...], palette: [[r,g,b], ...]}: restrict and order the classes',
  }),
  filter_cfg: typed<CocoFilterCfg>()({ type: 'object', nullable: true, default: null, doc: '{filter_empty_gt: bool, min_size: px}: drop images (training only)' }),
  pipeline: { type: 'array', default: [], doc: 'list of transform configs (scope transforms)' },
  test_mode: { type: 'boolean', default: false, doc: 'evaluation mode: no filtering, a failing sample is an error' },
  backend_args: typed<{ backend?: string }>()({ type: 'object', nullable: true, default: null, doc: 'file backend settings; local files only' }),
  indices: typed<number | number[]>()({ type: 'any', nullable: true, default: null, doc: 'use the first N images (number) or the listed indices' }),
  serialize_data: { type: 'boolean', default: true, doc: 'mmengine memory option (no effect here)' },
  lazy_init: { type: 'boolean', default: false, doc: 'defer reading the annotation file until first use' },
  max_refetch: { type: 'integer', default: 1000, doc: 'training: how many other samples to try when one fails' },
});
/** Resolved options of {@link CocoDataset}. */
export type CocoDatasetOptions = ResolvedOptions<typeof cocoDatasetOptions>;
/** What code passes to `new CocoDataset(...)`: the options and where warnings go. */
export type CocoDatasetInput = OptionsInput<typeof cocoDatasetOptions> & {
  /** Receives warnings (default: console.warn). */
  onWarning?: (message: string) => void;
};

/** The interface the loader and the engine use. */
export interface DetDataset<T = unknown> {
  readonly length: number;
  readonly testMode: boolean;
  readonly metainfo: CocoMetainfo;
  readonly maxRefetch: number;
  getDataInfo(index: number): CocoDataInfo;
  /** Run the pipeline on sample `index`; null when a transform dropped it. */
  prepareData(index: number, rng?: RandomSource): Promise<T | null>;
}

function formatProblems(file: string, problems: CocoProblem[], limit = 8): string {
  const lines = problems.slice(0, limit).map((p) => `  - ${p.message}${p.path ? ` [${p.path}]` : ''}`);
  if (problems.length > limit) lines.push(`  ... and ${problems.length - limit} more (run \`solo check-dataset ${file}\` for the full list)`);
  return lines.join('\n');
}

export class CocoDataset implements DetDataset {
  static readonly type = 'CocoDataset';
  static readonly description = 'COCO instances file + data pipeline (mmdetection CocoDataset rules).';
  static readonly options = cocoDatasetOptions;

  readonly annFile: string;
  readonly imgPrefix: string;
  readonly testMode: boolean;
  readonly maxRefetch: number;
  readonly pipeline: Compose;
  private readonly opts: CocoDatasetOptions;
  private dataList: CocoDataInfo[] | null = null;
  private meta: CocoMetainfo | null = null;
  private readonly warn: (m: string) => void;

  constructor(input: CocoDatasetInput, ctx?: BuildContext) {
    const { onWarning, ...rest } = input;
    const options = resolveOptions(cocoDatasetOptions, rest, 'CocoDataset');
    if (typeof options.annFile !== 'string' || options.annFile.length === 0) throw new DatasetError('CocoDataset needs `ann_file`');
    const root = options.dataRoot ?? '';
    this.annFile = root && !isAbsolute(options.annFile) ? join(root, options.annFile) : options.annFile;
    const extraPrefixes = Object.keys(options.dataPrefix).filter((k) => k !== 'img');
    if (extraPrefixes.length) {
      throw new DatasetError(`CocoDataset: data_prefix.${extraPrefixes.join(', data_prefix.')} not supported (instance segmentation reads images only: data_prefix.img)`);
    }
    const img = options.dataPrefix.img ?? '';
    this.imgPrefix = root && !isAbsolute(img) ? join(root, img) : img;
    this.testMode = options.testMode;
    this.maxRefetch = options.maxRefetch;
    this.opts = options;
    this.warn = onWarning ?? ((m: string) => console.warn(m));
    const backend = options.backendArgs?.backend;
    if (backend && backend !== 'local') throw new DatasetError(`CocoDataset: backend_args.backend "${backend}" is not supported (local files only)`);
    this.pipeline = Compose.build(options.pipeline, ctx, 'pipeline');
    if (!options.lazyInit) this.fullInit();
  }

  /** Read and parse the annotation file (done by the constructor unless `lazy_init`). */
  fullInit(): void {
    if (this.dataList) return;
    const file = this.annFile;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new DatasetError(`cannot read annotation file ${file}: ${code === 'ENOENT' ? 'file not found' : (e as Error).message}`, { location: { file }, cause: e });
    }
    const scan = scanCoco(parseJsonText(text, file, COCO_INSTANCES));
    const errors = scan.problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      throw new DatasetError(`${errors.length} problem${errors.length > 1 ? 's' : ''} in the annotation file:\n${formatProblems(file, errors)}`, {
        location: { file, key: errors[0].path },
      });
    }
    this.reportWarnings(file, scan.problems.filter((p) => p.severity === 'warning'));
    const fc = this.opts.filterCfg;
    const filterCfg: FilterCfg | null = fc ? { filterEmptyGt: fc.filter_empty_gt ?? fc.filterEmptyGt, minSize: fc.min_size ?? fc.minSize } : null;
    const classes = this.opts.metainfo?.classes;
    if (classes !== undefined && (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string'))) {
      throw new DatasetError('CocoDataset: `metainfo.classes` must be a list of class names', { location: { file: '<config>', key: 'metainfo.classes' } });
    }
    const res = buildDataList(scan, { classes, imgPrefix: this.imgPrefix, testMode: this.testMode, filterCfg });
    if (res.missingClasses.length) {
      this.warn(`warning: ${file}: metainfo.classes ${res.missingClasses.map((c) => `"${c}"`).join(', ')} not among the file's categories (they get no annotations)`);
    }
    if (res.classes.length === 0) throw new DatasetError(`${file}: no categories (the dataset needs at least one class)`, { location: { file, key: 'categories' } });
    let list = res.dataList;
    const ind = this.opts.indices;
    if (typeof ind === 'number') list = list.slice(0, ind);
    else if (Array.isArray(ind)) {
      list = ind.map((i) => {
        if (!Number.isInteger(i) || i < 0 || i >= res.dataList.length) throw new DatasetError(`CocoDataset: index ${i} in \`indices\` is out of range (0..${res.dataList.length - 1})`);
        return res.dataList[i];
      });
    }
    const palette = this.opts.metainfo?.palette ?? defaultPalette(res.classes.length);
    if (palette.length < res.classes.length) throw new DatasetError(`CocoDataset: metainfo.palette has ${palette.length} colours for ${res.classes.length} classes`);
    this.meta = { classes: res.classes, palette: palette.slice(0, res.classes.length), catIds: res.catIds };
    this.dataList = list;
  }

  private reportWarnings(file: string, warnings: CocoProblem[]): void {
    const byKind = new Map<string, CocoProblem[]>();
    for (const w of warnings) {
      const list = byKind.get(w.kind) ?? [];
      list.push(w);
      byKind.set(w.kind, list);
    }
    for (const [, list] of byKind) {
      const ids = list.filter((p) => p.annId !== undefined).slice(0, 5).map((p) => p.annId);
      const more = list.length > 1 ? ` (${list.length} annotations${ids.length ? `, ids ${ids.join(', ')}${list.length > ids.length ? ', ...' : ''}` : ''})` : '';
      this.warn(`warning: ${file}: ${list[0].message}${more}`);
    }
  }

  get length(): number {
    this.fullInit();
    return this.dataList!.length;
  }

  get metainfo(): CocoMetainfo {
    this.fullInit();
    return this.meta!;
  }

  /** A copy of the record of sample `index` (what the pipeline starts from). */
  getDataInfo(index: number): CocoDataInfo {
    this.fullInit();
    const d = this.dataList![index];
    if (!d) throw new SoloError(`CocoDataset: index ${index} out of range (length ${this.dataList!.length})`, { code: 'ARGUMENT' });
    return { ...d, instances: d.instances.map((i) => ({ ...i })) };
  }

  /** Width and height of image `index` as declared in the annotation file (no copy). */
  getImageSize(index: number): { width: number; height: number } {
    this.fullInit();
    const d = this.dataList![index];
    if (!d) throw new SoloError(`CocoDataset: index ${index} out of range (length ${this.dataList!.length})`, { code: 'ARGUMENT' });
    return { width: d.width, height: d.height };
  }

  /** Run the pipeline on sample `index`. */
  async prepareData(index: number, rng?: RandomSource): Promise<unknown | null> {
    const results: PipelineResults = { ...this.getDataInfo(index) };
    return this.pipeline.run(results, rng);
  }
}
