// SPDX-License-Identifier: Apache-2.0
/**
 * `buildRunnerFromConfig(cfg, options)`: everything `solo train` needs, from an mmdetection-style config.
 *
 * | config key | used as |
 * |---|---|
 * | `model` | the detector (registry scope `models`), initialised from `randomness.seed` |
 * | `train_dataloader`, `val_dataloader` | `batch_size`, `num_workers` (worker threads), `sampler`, `batch_sampler`, `dataset` |
 * | `val_evaluator`, `val_cfg` | the validation metric (CocoMetric: ground truth from `ann_file`) and loop |
 * | `optim_wrapper` | optimizer (SGD, Adam, AdamW), `clip_grad`, `paramwise_cfg` |
 * | `param_scheduler` | learning-rate schedule (closed form of mmengine's schedulers) |
 * | `train_cfg` | `max_epochs`, `val_interval`, `val_begin` (EpochBasedTrainLoop) |
 * | `default_hooks` | hook objects (LoggerHook, CheckpointHook, ..., `nan_guard: {type: NanGuardHook}`); missing default keys get the hook's declared defaults, null removes one |
 * | `custom_hooks` | more hook objects (`Hook`), same interface; `CheckInvalidLossHook` / `NanGuardHook` replace the default guard |
 * | `log_processor` | `num_digits` of the text log |
 * | `auto_scale_lr` | `enable`, `base_batch_size`: lr x (total batch size / base_batch_size); total = batch_size x workers |
 * | `load_from`, `resume` | weights to start from; resume (with `load_from`: from that file, else `last_checkpoint`) |
 * | `randomness.seed` | weight init, data order and augmentation (a resumed run reuses its checkpoint's seed) |
 * | `work_dir` | default `work_dirs/<config name>`; the merged config is written there |
 *
 * `workers: N` (>= 2) trains data-parallel (`DataParallelTrainer`, docs/training.md): `train_dataloader.batch_size`
 * stays the per-worker batch, the train loader yields N x batch_size images per iteration (so an epoch has about
 * N times fewer iterations) and each worker thread gets a contiguous shard of batch_size.
 *
 * Every other component key (`visualizer`, `val_cfg`, ...) is built through the registry too,
 * so a misspelt option is an error naming the file and line before any training starts.
 */
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, SoloError, type ComponentModule, type Registry } from '@solo-ts/core';
import { loadConfig, loadPlugins, pluginImports, type Config, type PluginImport } from '@solo-ts/config';
import { loadAnyCheckpoint, readLastCheckpoint } from '@solo-ts/checkpoint';
import { buildDataLoader, type DataLoaderCfg } from '@solo-ts/datasets';
import { selectBackend, type BackendChoice, type SelectedBackend } from '@solo-ts/backends';
import { DEFAULT_HOOK_TYPES, NonFiniteLossGuard, ProgressBarHook, ValidationHook, type ValidationSchedule } from '../components/hooks/index.js';
import { EpochBasedTrainLoop } from '../components/loops.js';
import { LogProcessor } from '../components/visualizers.js';
import { HOOK_POINTS, isHook, type Hook } from '../runner/hooks.js';
import { autoWorkers, DATA_PARALLEL_BACKENDS, DataParallelTrainer, threadsPerWorker } from '../parallel/data-parallel.js';
import { DistributedDataParallel, initDistributed, type Launcher } from '../parallel/distributed.js';
import type { Collective } from '../parallel/collective.js';
import { Runner } from '../runner/runner.js';
import type { TrainSummary } from '../runner/runner-options.js';
import type { TrainableDetector } from '../runner/types.js';
import { buildEvaluator, type Evaluator } from './evaluator.js';
import { LoaderAdapter } from './loader.js';
import { buildModel, checkClasses, configSeed } from './model.js';
import { buildOptimizer, buildSchedulers } from './optim.js';
import { loadPretrainedWeights } from './pretrained.js';
import { componentModulesIn, isRegistryFactory, type RegistryFactory } from './registry-factory.js';

export interface BuildRunnerOptions {
  /** Work directory (default: `work_dir` of the config, else `work_dirs/<config name>`). */
  workDir?: string;
  /** Resume: a checkpoint path, or true for `<work_dir>/last_checkpoint` (default: the config's `resume`). */
  resume?: string | boolean;
  /** Start from these weights (non-strict, reported; default: the config's `load_from`). */
  loadFrom?: string;
  /** Seed (default: the resumed checkpoint's, else `randomness.seed`, else 0). */
  seed?: number;
  /** tfjs backend to select before building (default `auto`); null = keep the current one. */
  backend?: BackendChoice | null;
  /** WebAssembly threads (per data-parallel worker; default with `workers` > 1: max(1, floor(cores / workers))). */
  threads?: number;
  /**
   * Data-parallel world size: N threads (the main one included) with a model each, gradients averaged (default 1).
   * `auto`: min(cores, 2), or 1 when the backend is neither wasm nor cpu.
   */
  workers?: number | 'auto';
  /**
   * Distributed training across processes (`mpi`: started by mpirun / srun / an MPIJob; one process per rank,
   * `train_dataloader.batch_size` per rank, rank 0 writes; docs/training.md). Default `none`: one process.
   * WebAssembly threads per process default to max(1, floor(cores / processes on this host)).
   */
  launcher?: Launcher;
  /** `key=value` overrides (used when `cfg` is a path). */
  cfgOptions?: string[] | Record<string, unknown>;
  /**
   * What to build from, the config's plugins loaded on top: a registry factory (e.g. `defaultRegistryFactory` of
   * @solo-ts/apis; called with `extraModules`; data-parallel workers import the same factory), or a `Registry`
   * (single-thread runs only).
   */
  registry: Registry | RegistryFactory;
  /** Component modules added to a factory's registry (single-thread runs only). */
  extraModules?: ComponentModule[];
  /** Stop after this many iterations / minutes of training. */
  maxIters?: number;
  maxMinutes?: number;
  /** Force auto_scale_lr on. */
  autoScaleLr?: boolean;
  /** Run data pipelines in worker threads when num_workers > 0 (default true). */
  loaderWorkers?: boolean;
  /** Skip validation. */
  noValidate?: boolean;
  print?: (line: string) => void;
  progress?: boolean;
}

export interface BuiltRun {
  cfg: Config;
  registry: Registry;
  runner: Runner;
  model: TrainableDetector;
  trainLoader: LoaderAdapter;
  valLoader?: LoaderAdapter;
  evaluator?: Evaluator;
  backend: SelectedBackend | null;
  /** the data-parallel trainer (`workers` > 1); the runner starts and stops it */
  parallel?: DataParallelTrainer;
  /** distributed training (`launcher`): the step engine and the process group (closed by `close`) */
  distributed?: { parallel: DistributedDataParallel; collective: Collective };
  workDir: string;
  seed: number;
  /** Train, then close the loaders. */
  train(): Promise<TrainSummary>;
  close(): Promise<void>;
}

/** Where a plugin's component modules go: a `Registry`, or anything that loads `ComponentModule`s. */
export interface PluginTarget {
  load(...modules: ComponentModule[]): unknown;
}

/**
 * Load the plugins a config names (`custom_imports`, `plugins`) into `registry`, in config order. Returns the
 * names of the plugins loaded.
 */
export async function loadConfigPluginsInto(cfg: Config, registry: PluginTarget, options: { onWarning?: (message: string) => void } = {}): Promise<string[]> {
  return loadPluginImportsInto(pluginImports(cfg), registry, options);
}

/**
 * Load resolved plugin imports (`pluginImports(cfg)`) into `registry` (also what data-parallel workers do). A
 * plugin that exports no `ComponentModule` is a `ConfigError` pointing at the config line that names it.
 */
export async function loadPluginImportsInto(
  imports: PluginImport[],
  registry: PluginTarget,
  options: { onWarning?: (message: string) => void } = {},
): Promise<string[]> {
  const loaded: string[] = [];
  await loadPlugins(
    imports,
    (mod, name) => {
      const modules = componentModulesIn(mod);
      if (modules.length === 0) {
        throw new ConfigError(`plugin \`${name}\` exports no ComponentModule, so it registers nothing`, {
          location: imports.find((i) => i.spec === name)?.location,
          hint: "a plugin exports e.g. `export const components = new ComponentModule('my-plugin', [...])` from @solo-ts/core",
        });
      }
      registry.load(...modules);
      loaded.push(name);
    },
    options,
  );
  return loaded;
}

/** `work_dir` of a run: the option, else the config's, else `work_dirs/<config file name>`. */
export function resolveWorkDir(cfg: Config, workDir?: string): string {
  const w = workDir ?? cfg.get<string>('work_dir');
  return path.resolve(w ?? path.join('work_dirs', path.basename(cfg.filename).replace(/\.(ya?ml|json)$/i, '')));
}

function asMap(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * The hooks of a run (mmengine's `Runner.register_hooks`): every `default_hooks` entry built through the registry
 * (a key set to null removes that hook; a default key the config leaves out gets the hook with its declared
 * defaults, `DEFAULT_HOOK_TYPES`), the progress bar and validation hooks, then `custom_hooks`. The runner calls
 * them in priority order.
 */
export function buildHooks(cfg: Config, registry: Registry, o: { validation: ValidationSchedule; progress?: boolean }): Hook[] {
  const given = asMap(cfg.get('default_hooks')) ?? {};
  const custom = cfg.get<unknown[]>('custom_hooks') ?? [];
  if (!Array.isArray(custom)) throw new ConfigError('custom_hooks must be a list of hook configs', { location: cfg.sourceOf('custom_hooks') });
  const customHooks = custom.map((hc, i) => {
    const built = registry.build<unknown>('hooks', hc, `custom_hooks.${i}`);
    if (!isHook(built)) throw new ConfigError(`custom_hooks.${i} does not implement any hook point (${HOOK_POINTS.join(', ')})`);
    return built;
  });
  const hooks: Hook[] = [];
  for (const name of [...Object.keys(given), ...Object.keys(DEFAULT_HOOK_TYPES).filter((k) => !(k in given))]) {
    let hc = given[name];
    if (!(name in given)) {
      // a guard among the custom hooks replaces the default one
      if (name === 'nan_guard' && customHooks.some((h) => h instanceof NonFiniteLossGuard)) continue;
      hc = { type: DEFAULT_HOOK_TYPES[name] };
    }
    if (hc === null || hc === undefined) continue;
    const built = registry.build<unknown>('hooks', hc, `default_hooks.${name}`);
    // a default hook may have nothing to do (DistSamplerSeedHook); custom hooks must implement a point
    if (typeof built !== 'object' || built === null) throw new ConfigError(`default_hooks.${name}: ${String((hc as { type?: unknown }).type)} is not a hook`);
    hooks.push(built as Hook);
  }
  hooks.push(new ProgressBarHook(o.progress ?? true), new ValidationHook(o.validation), ...customHooks);
  return hooks;
}

/** `log_processor` built through the registry (its declared defaults when the config has none). */
function buildLogProcessor(cfg: Config, registry: Registry): LogProcessor {
  const lp = registry.build<unknown>('visualizers', cfg.get('log_processor') ?? { type: 'LogProcessor' }, 'log_processor');
  if (!(lp instanceof LogProcessor)) throw new ConfigError('log_processor must be a LogProcessor', { location: cfg.sourceOf('log_processor') });
  return lp;
}

/** Validate the runtime keys that have no effect of their own (visualizer, val/test loops). */
function validateRuntimeKeys(cfg: Config, registry: Registry): void {
  const vis = cfg.get('visualizer');
  if (vis) registry.build('visualizers', vis, 'visualizer');
  for (const k of ['val_cfg', 'test_cfg']) {
    const v = asMap(cfg.get(k));
    if (v) registry.build('loops', { type: k === 'val_cfg' ? 'ValLoop' : 'TestLoop', ...v }, k);
  }
}

/** The train loop settings (`train_cfg`, an EpochBasedTrainLoop). */
function buildTrainLoop(cfg: Config, registry: Registry): EpochBasedTrainLoop {
  const loop = registry.build<EpochBasedTrainLoop>('loops', { type: 'EpochBasedTrainLoop', ...(asMap(cfg.get('train_cfg')) ?? {}) }, 'train_cfg');
  if (!(loop instanceof EpochBasedTrainLoop)) throw new ConfigError('train_cfg must be an EpochBasedTrainLoop');
  return loop;
}

/**
 * Build every non-model, non-data part of a training config through the registry (train loop, hooks, runtime
 * keys, optim_wrapper and its optimizer, param_scheduler): a config that passes trains as far as its keys go.
 */
export function validateTrainingConfig(cfg: Config, registry: Registry): { loop: EpochBasedTrainLoop; hooks: Hook[]; logProcessor: LogProcessor } {
  const parts = buildRunParts(cfg, registry, false);
  const ow = asMap(cfg.get('optim_wrapper'));
  if (ow) registry.build('optimizers', (registry.build<{ optimizer: unknown }>('optim_wrappers', { type: 'OptimWrapper', ...ow }, 'optim_wrapper')).optimizer, 'optim_wrapper.optimizer');
  buildSchedulers(cfg, registry);
  return parts;
}

/** The train loop, the hooks and the log processor of a run, with the runtime keys checked. */
function buildRunParts(cfg: Config, registry: Registry, progress: boolean | undefined): { loop: EpochBasedTrainLoop; hooks: Hook[]; logProcessor: LogProcessor } {
  const loop = buildTrainLoop(cfg, registry);
  const hooks = buildHooks(cfg, registry, { validation: loop, progress });
  const logProcessor = buildLogProcessor(cfg, registry);
  validateRuntimeKeys(cfg, registry);
  return { loop, hooks, logProcessor };
}

/** The seed recorded in a checkpoint (for resuming with the same data order), if any. */
async function checkpointSeed(file: string | undefined): Promise<number | undefined> {
  if (!file) return undefined;
  const meta = (await loadAnyCheckpoint(file)).meta as { seed?: unknown } | undefined;
  return typeof meta?.seed === 'number' ? meta.seed : undefined;
}

export async function buildRunnerFromConfig(cfgOrPath: Config | string, o: BuildRunnerOptions): Promise<BuiltRun> {
  const cfg = typeof cfgOrPath === 'string' ? loadConfig(cfgOrPath, { cfgOptions: o.cfgOptions }) : cfgOrPath;
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  let workers = o.workers === 'auto' ? autoWorkers(cores) : (o.workers ?? 1);
  if (!Number.isInteger(workers) || workers < 1) throw new SoloError(`workers must be a positive integer or auto, got ${String(o.workers)}`, { code: 'ARGUMENT' });
  if (!o.registry) throw new SoloError('buildRunnerFromConfig needs a registry (or a registry factory) to build from', { code: 'ARGUMENT', hint: 'pass `registry: defaultRegistryFactory` from @solo-ts/apis' });
  const factory = isRegistryFactory(o.registry) ? o.registry : undefined;
  const comm = await initDistributed(o.launcher ?? 'none');
  if (comm && workers > 1) {
    await comm.close();
    throw new SoloError(`--workers ${workers} (threads of one process) and --launcher ${o.launcher} (one process per rank) cannot be combined`, { code: 'ARGUMENT', hint: 'start more processes instead: tools/dist_train.sh CONFIG N' });
  }
  const threads = comm ? threadsPerWorker(o.threads, comm.localSize, cores) : workers > 1 ? threadsPerWorker(o.threads, workers, cores) : o.threads;
  const backend = o.backend === null ? null : await selectBackend(o.backend ?? 'auto', { threads, quiet: true, localRank: comm?.localRank });
  const backendName = backend?.name ?? tf.getBackend();
  if (o.workers === 'auto' && !DATA_PARALLEL_BACKENDS.includes(backendName)) workers = 1;
  if (workers > 1 && !DATA_PARALLEL_BACKENDS.includes(backendName)) {
    throw new SoloError(`--workers ${workers} needs the wasm or cpu backend; the current one is ${backendName}`, { code: 'BACKEND', hint: 'use --backend wasm, or --workers 1' });
  }
  if (workers > 1 && (!factory || o.extraModules?.length)) {
    throw new SoloError('data-parallel workers build their model from a registry factory and the config\'s plugins; a registry instance or extraModules cannot reach them', { code: 'ARGUMENT', hint: 'list the plugin packages in the config (custom_imports), or use workers: 1' });
  }
  const registry = factory ? factory.create(o.extraModules) : (o.registry as Registry);
  await loadConfigPluginsInto(cfg, registry);
  const workDir = resolveWorkDir(cfg, o.workDir);
  const cfgResume = cfg.get<unknown>('resume');
  const loadFromCfg = o.loadFrom ?? cfg.get<string | null>('load_from') ?? undefined;
  let resume: string | boolean | undefined = o.resume ?? (cfgResume === true ? true : undefined);
  let loadFrom = loadFromCfg;
  if (resume === true && loadFrom) {
    // mmengine: resume=True with load_from resumes from that file
    resume = loadFrom;
    loadFrom = undefined;
  }
  const resumeFile = resume === true ? await readLastCheckpoint(workDir) : typeof resume === 'string' ? path.resolve(resume) : undefined;
  let seed = o.seed ?? (await checkpointSeed(resumeFile)) ?? configSeed(cfg);
  // every rank: rank 0's seed (the data order and augmentation of the shards must be one order)
  if (comm) seed = await comm.broadcastObject(seed, 0);

  const { loop, hooks, logProcessor } = buildRunParts(cfg, registry, o.progress);

  const model = buildModel(cfg, { registry, seed });
  // distributed: rank 0 alone prints (the runner's log does the same)
  const print = comm && comm.rank !== 0 ? () => undefined : (o.print ?? ((l: string) => process.stdout.write(`${l}\n`)));
  const onWarning = (m: string) => print(m);
  const modules = pluginImports(cfg).map((p) => p.spec);
  const tdl = cfg.get<DataLoaderCfg>('train_dataloader');
  if (!tdl) throw new ConfigError(`${cfg.filename} has no \`train_dataloader\``);
  const perWorkerBatch = tdl.batch_size ?? 1;
  const ranks = comm?.worldSize ?? workers;
  // distributed: every rank makes the global batches (ranks x batch_size) and prepares only its share of each
  const shard = comm ? { rank: comm.rank, worldSize: comm.worldSize } : undefined;
  const trainLoader = new LoaderAdapter(buildDataLoader(ranks > 1 ? { ...tdl, batch_size: perWorkerBatch * ranks } : tdl, { registry, path: 'train_dataloader', seed, onWarning, workers: o.loaderWorkers, modules, shard }));
  const closers: Array<() => Promise<void>> = [() => trainLoader.close()];
  try {
    checkClasses(model, trainLoader.loader.dataset.metainfo.classes, cfg, 'training');
    if (!resumeFile && !loadFrom) await loadPretrainedWeights(model, print);
    let valLoader: LoaderAdapter | undefined;
    let evaluator: Evaluator | undefined;
    const vdl = cfg.get<DataLoaderCfg>('val_dataloader');
    const vev = cfg.get('val_evaluator');
    if (!o.noValidate && vdl && vev && cfg.get('val_cfg') !== null) {
      // distributed: each rank's validation batches are the batches of one process (the same predictions)
      const vb = vdl.batch_size ?? 1;
      const vshard = shard && { ...shard, perRank: vb };
      valLoader = new LoaderAdapter(buildDataLoader(shard ? { ...vdl, batch_size: vb * shard.worldSize } : vdl, { registry, path: 'val_dataloader', seed, onWarning, workers: o.loaderWorkers, modules, shard: vshard }));
      closers.push(() => valLoader!.close());
      const ds = valLoader.loader.dataset as { annFile?: string; metainfo: { classes: string[] } };
      evaluator = buildEvaluator(vev, { registry, path: 'val_evaluator', dataset: ds });
    }
    const batchSize = perWorkerBatch * ranks;
    const opt = buildOptimizer(cfg, model, { registry, batchSize, autoScaleLr: o.autoScaleLr });
    const schedulers = buildSchedulers(cfg, registry);
    const ddp = comm ? new DistributedDataParallel({ comm, model, batchSize: perWorkerBatch, backend: backend?.detail ?? tf.getBackend() }) : undefined;
    const parallel = workers > 1 ? new DataParallelTrainer({ worldSize: workers, model, config: cfg, seed, backend: { name: backendName, threads: threads ?? 1 }, batchSize: perWorkerBatch, registry: factory! }) : undefined;
    if (parallel) closers.push(() => parallel.close());
    const runner = new Runner({
      model,
      optimizer: opt.optimizer,
      mults: opt.mults,
      schedulers,
      trainLoader,
      valLoader,
      evaluator,
      settings: {
        maxEpochs: loop.maxEpochs,
        clipGrad: opt.clipGrad,
        maxIters: o.maxIters,
        maxSeconds: o.maxMinutes !== undefined ? o.maxMinutes * 60 : undefined,
      },
      workDir,
      configText: cfg.toYAML(),
      seed,
      backendName: backend?.detail ?? 'current',
      resume: resumeFile ?? (resume === true ? true : undefined),
      loadFrom,
      hooks,
      logProcessor,
      print,
      progress: o.progress,
      parallel: ddp ?? parallel,
      collective: comm,
    });
    // MPI_Finalize waits for the other ranks: after a failure on this rank (the others may be waiting in a
    // collective operation for it) the process ends without it, and the launcher stops the job, naming this rank
    let failed = false;
    if (comm) closers.push(() => (failed ? Promise.resolve() : comm.close()));
    if (runner.isMain) cfg.dump(path.join(workDir, path.basename(cfg.filename).replace(/\.(json|yml)$/i, '.yaml')));
    if (opt.lrScale !== 1) runner.log(`auto_scale_lr: lr ${opt.lr} (x${opt.lrScale} = batch ${batchSize}${ranks > 1 ? ` = ${ranks} ${comm ? 'ranks' : 'workers'} x ${perWorkerBatch}` : ''} / base_batch_size)`);
    const close = async () => {
      for (const c of closers) await c();
    };
    return {
      cfg,
      registry,
      runner,
      model,
      trainLoader,
      valLoader,
      evaluator,
      backend,
      parallel,
      distributed: ddp && comm ? { parallel: ddp, collective: comm } : undefined,
      workDir,
      seed,
      close,
      async train() {
        try {
          return await runner.train();
        } catch (e) {
          failed = true;
          // several processes print into one terminal: say which rank failed
          if (comm && comm.worldSize > 1 && e instanceof Error && !e.message.startsWith('rank ')) e.message = `rank ${comm.rank} of ${comm.worldSize}: ${e.message}`;
          throw e;
        } finally {
          await close();
        }
      },
    };
  } catch (e) {
    for (const c of closers) await c().catch(() => undefined);
    throw e;
  }
}
