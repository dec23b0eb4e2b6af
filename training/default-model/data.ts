/** @module Step 1 of the default model: the drawn shapes (train, validation, late crosses, test sets) and their loading. */
import { join } from 'node:path';
import type { PreprocessSpec } from '../../src/core/preprocess-spec.js';
import { readFolderDataset } from '../data/folder.js';
import { loadImageTensors } from '../data/load.js';
import { SHAPE_CLASSES } from '../data/shapes.js';
import { writeSvgShapes } from '../data/svg-shapes.js';
import { writeShapesDataset } from '../data/write-shapes.js';
import { writeFileAtomic } from '../model-folder/files.js';
import { taskProgress } from '../train/progress.js';
import { svgSetSeed, TEST_SET_SEEDS, type DefaultModelRecipe } from './recipe.js';

export type Split = 'train' | 'late' | 'validation' | 'validation_svg' | 'test' | 'test_svg';

/** On disk the validation split is `test/` and `svg/` (the cache's layout predates the names); the test sets sit beside. */
const FOLDERS: Record<Split, string> = { train: 'train', late: 'late', validation: 'test', validation_svg: 'svg', test: '../test-sets/shapes', test_svg: '../test-sets/svg' };

/** Images the training data needs drawn (the librsvg set is drawn apart, and not counted by the progress bar). */
export const shapesToDraw = (recipe: DefaultModelRecipe) => (recipe.trainPerClass + recipe.testPerClass + recipe.svgPerClass) * SHAPE_CLASSES.length + (recipe.lateCrosses?.count ?? 0);

/** Draws the training, validation and late-cross shapes and the librsvg validation set into `dataDir`. */
export async function drawTrainingData(recipe: DefaultModelRecipe, dataDir: string, log: (line: string) => void) {
  log(`data: drawing ${recipe.trainPerClass + recipe.testPerClass} shapes per class into ${dataDir}`);
  const drawing = taskProgress('data: shapes drawn', shapesToDraw(recipe) - recipe.svgPerClass * SHAPE_CLASSES.length, { lineEvery: 1000, log });
  await writeShapesDataset({ dir: dataDir, seed: recipe.seed, onImage: () => drawing.tick(), splits: [
      { name: 'train', perClass: recipe.trainPerClass },
      { name: 'test', perClass: recipe.testPerClass },
      ...(recipe.lateCrosses ? [{ name: 'late', perClass: recipe.lateCrosses.count, classes: ['cross'] as const, draw: { crossHalfThickness: recipe.lateCrosses.halfThickness } }] : []),
    ] });
  drawing.done();
  await writeSvgShapes(join(dataDir, 'svg'), recipe.svgPerClass, svgSetSeed(recipe));
  await writeFileAtomic(join(dataDir, '.done'), new Date().toISOString());
}

/** Draws the test sets beside the cached data (once; after training if the cache predates them). */
export async function drawTestSets(recipe: DefaultModelRecipe, testDir: string, log: (line: string) => void) {
  log(`data: drawing the test sets (seeds ${TEST_SET_SEEDS.shapes}, ${TEST_SET_SEEDS.svg}: never used for any choice)`);
  await writeShapesDataset({ dir: testDir, seed: TEST_SET_SEEDS.shapes, splits: [{ name: 'shapes', perClass: recipe.testPerClass }] });
  await writeSvgShapes(join(testDir, 'svg'), recipe.svgPerClass, TEST_SET_SEEDS.svg);
  await writeFileAtomic(join(testDir, '.done'), new Date().toISOString());
}

/** The files of a split, in label order. */
export const splitFiles = async (dataDir: string, split: Split) => (await readFolderDataset(join(dataDir, FOLDERS[split]), [...SHAPE_CLASSES])).files;

/** A split decoded and preprocessed as the Worker does it. */
export const loadSplit = async (dataDir: string, split: Split, spec: PreprocessSpec) => loadImageTensors(await splitFiles(dataDir, split), spec);
