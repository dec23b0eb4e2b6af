/** Values the global setup provides to tests (vitest `inject`). */
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    modelBaseUrl: string;
    testModelDir: string;
  }
}
