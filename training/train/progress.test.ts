import { describe, expect, it } from 'vitest';
import { taskProgress } from './progress.js';

describe('build task progress without a terminal', () => {
  it('a line with the count, fields and an ETA every lineEvery units and at the end', () => {
    const lines: string[] = [];
    const stream = { isTTY: false } as unknown as NodeJS.WriteStream;
    const p = taskProgress('train: step', 60, { lineEvery: 25, fields: ['loss'], log: (l) => lines.push(l), stream });
    for (let i = 0; i < 60; i++) p.tick(1, { loss: (1 - i / 100).toFixed(2) });
    p.log('a note');
    p.done();
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ {2}train: step 25\/60 {2}loss 0\.76 {2}\d+ s \(eta \d+ s\)$/);
    expect(lines[1]).toMatch(/step 50\/60/);
    expect(lines[2]).toMatch(/step 60\/60 .*\(eta 0 s\)/);
    expect(lines[3]).toBe('a note');
  });

  it('a resumed task counts from where it was', () => {
    const lines: string[] = [];
    const p = taskProgress('train: step', 200, { lineEvery: 100, log: (l) => lines.push(l), stream: { isTTY: false } as unknown as NodeJS.WriteStream, done: 100 });
    for (let i = 0; i < 100; i++) p.tick();
    expect(lines).toEqual([expect.stringMatching(/step 200\/200/)]);
  });
});
