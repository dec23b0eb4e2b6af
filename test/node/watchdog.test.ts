import { describe, expect, it } from 'vitest';
import type { TestModule } from 'vitest/node';
import { Watchdog } from '../setup/watchdog.js';

const moduleNamed = (relativeModuleId: string, project = 'worker') => ({ relativeModuleId, project: { name: project } }) as unknown as TestModule;

/** A watchdog on a hand-driven clock whose "fail the run" only records its message. */
function watched(limits = { fileSeconds: 60, silentSeconds: 30 }) {
  let clock = 0;
  const stops: string[] = [];
  const dog = new Watchdog(limits, (m) => stops.push(m), () => clock);
  dog.onInit();
  dog.onTestRunEnd(); // stop the real interval: the test drives check() itself
  return { dog, stops, advance: (s: number) => (clock += s * 1000) };
}

describe('test-run watchdog', () => {
  it('lets files that report in time run, however long the run', () => {
    const { dog, stops, advance } = watched();
    for (let i = 0; i < 10; i++) {
      dog.onTestModuleQueued(moduleNamed(`f${i}.test.ts`));
      advance(20);
      dog.onTestCaseResult();
      advance(20);
      dog.check();
      dog.onTestModuleEnd(moduleNamed(`f${i}.test.ts`));
    }
    expect(stops).toEqual([]);
  });

  it('fails the run when one file runs past its limit, naming it, even while other files report', () => {
    const { dog, stops, advance } = watched();
    dog.onTestModuleQueued(moduleNamed('test/worker/predict.test.ts'));
    for (let t = 0; t < 60; t += 10) {
      advance(10);
      dog.onTestCaseResult();
      dog.check();
    }
    expect(stops).toEqual([]);
    advance(1);
    dog.check();
    expect(stops).toHaveLength(1);
    expect(stops[0]).toContain('test/worker/predict.test.ts [worker] has run for over 60 s');
  });

  it('fails a run in which nothing is reported for too long, naming what is still running', () => {
    const { dog, stops, advance } = watched();
    dog.onTestModuleQueued(moduleNamed('a.test.ts', 'node'));
    advance(31);
    dog.check();
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatch(/nothing reported for over 30 s.*a\.test\.ts \[node\] \(31 s\)/);
  });

  it('counts the silence between files too (a pool that never starts the next file)', () => {
    const { dog, stops, advance } = watched();
    dog.onTestModuleQueued(moduleNamed('a.test.ts'));
    dog.onTestModuleEnd(moduleNamed('a.test.ts'));
    advance(31);
    dog.check();
    expect(stops[0]).toContain('files still running: none');
  });
});
