// Settings and the About dialog. About must work even when the model package is missing or broken (that is when a
// person most needs to see which model and which database the app uses), so model problems become text here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AboutInfo, ModelInfo, ReviewLayout, Settings } from '../../shared/api';
import { reviewLayoutProblem } from '../../shared/review-layout';
import { DIFFERENTIAL_RULES_VERSION } from '../../shared/differential';
import { modelInfo, readModelManifest } from '../inference/model-package';
import { currentActor, type ServiceContext } from './context';
import type { ServiceArea } from './combine';
import { toApiError, validationError } from './errors';

/** Sources every build carries, whatever model is installed (the model adds its own from model.json). */
export const APP_ATTRIBUTIONS: readonly string[] = Object.freeze([
  'Cell classes and the bundled model: Matek C, Krappe S, Münzenmayer C, Haferlach T, Marr C. Highly accurate differentiation of bone marrow cell morphologies using deep neural networks on a large image data set. Blood 2021;138(20):1917–1927. Data: The Cancer Imaging Archive, DOI 10.7937/TCIA.AXH3-T579, CC BY 4.0.',
  'Acevedo A, Merino A, Alférez S, Molina Á, Boldú L, Rodellar J. A dataset of microscopic peripheral blood cell images for development of automatic recognition systems. Data in Brief 2020;30:105474. Data: Mendeley Data, DOI 10.17632/snkd93bnjr.1, CC BY 4.0.',
  'Counting rules: ICSH guidelines for the standardization of bone marrow specimens and reports (Lee SH et al., Int J Lab Hematol 2008;30:349–364); WHO-HAEM5 (2022) and ICC (2022) blast thresholds.',
  'Report fonts: DejaVu Sans (Bitstream Vera licence).',
]);

export function settingsAboutMethods(ctx: ServiceContext) {
  return {
    async getSettings(): Promise<Settings> {
      return ctx.store.settings.getSettings();
    },

    async saveSettings(settings: Settings): Promise<Settings> {
      return ctx.store.settings.saveSettings(settings, currentActor(ctx));
    },

    async getReviewLayout(): Promise<ReviewLayout> {
      return ctx.store.reviewLayout.getReviewLayout();
    },

    async saveReviewLayout(layout: ReviewLayout): Promise<ReviewLayout> {
      const problem = reviewLayoutProblem(layout);
      if (problem !== null) throw validationError(problem.field, problem.message);
      // Recorded against the person the other settings changes are recorded against (the session user once there is one).
      return ctx.store.reviewLayout.saveReviewLayout(layout, currentActor(ctx));
    },

    async getAbout(): Promise<AboutInfo> {
      const { modelDir } = ctx.options;
      let model: ModelInfo | null = null;
      const attributions = [...APP_ATTRIBUTIONS];
      let modelCard: string;
      try {
        const manifest = await readModelManifest(modelDir);
        model = modelInfo(manifest);
        attributions.push(...manifest.attribution, `Model licence: ${manifest.license}`);
      } catch (e) {
        attributions.push(`Model: ${toApiError(e).message}`);
      }
      const cardPath = join(modelDir, 'MODEL_CARD.md');
      try {
        modelCard = await readFile(cardPath, 'utf8');
      } catch (e) {
        modelCard = `The model card could not be read (${cardPath}: ${(e as Error).message}). Reinstall MarrowCount or ask IT to restore the model folder.`;
      }
      return {
        appVersion: ctx.options.appVersion,
        rulesVersion: DIFFERENTIAL_RULES_VERSION,
        model,
        modelCard,
        attributions,
        // Where the data is, as the store words it: a file path, or a PostgreSQL URL without its password.
        databasePath: ctx.store.where,
      };
    },
  } satisfies ServiceArea;
}
