import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalescedWaker } from '../services/notice.wake';

/**
 * The worker's waker (every journal write wakes the notice dispatcher): signals are folded, and
 * yet every call is followed by a signal sent after it, so that a round sees what the caller wrote.
 */
describe('coalescedWaker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A wake that records when each signal was sent, failing the ones `fails` says. */
  const recorder = (fails: (n: number) => boolean = () => false) => {
    const sent: number[] = [];
    let n = 0;
    const wake = () => {
      n++;
      if (fails(n)) return Promise.reject(new Error(`signal ${n} refused`));
      sent.push(Date.now());
      return Promise.resolve();
    };
    return { sent, wake };
  };

  it('signals at once in a quiet spell, and folds the calls within the spell into one signal at its end', async () => {
    const { sent, wake } = recorder();
    const start = Date.now();
    const waker = coalescedWaker(wake, 250);
    await waker();
    expect(sent).toEqual([start]);
    // Three more calls within the spell: one signal, at its end, after all three.
    await vi.advanceTimersByTimeAsync(10);
    await waker();
    await vi.advanceTimersByTimeAsync(100);
    await waker();
    await waker();
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(140);
    expect(sent).toEqual([start, start + 250]);
    // Quiet again: the next call signals at once.
    await vi.advanceTimersByTimeAsync(1_000);
    await waker();
    expect(sent).toEqual([start, start + 250, start + 1_250]);
  });

  it('follows a call made while the folded signal is on its way with a signal of its own', async () => {
    let release: () => void = () => undefined;
    const sent: number[] = [];
    const slow = () => {
      sent.push(Date.now());
      // The second signal (the folded one) takes a while to be answered.
      return sent.length === 2 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
    };
    const start = Date.now();
    const waker = coalescedWaker(slow, 250);
    await waker();
    await waker();
    await vi.advanceTimersByTimeAsync(250);
    expect(sent).toEqual([start, start + 250]);
    // The folded signal is under way, and may reach the dispatcher before this caller's write: another follows.
    await waker();
    await vi.advanceTimersByTimeAsync(250);
    expect(sent).toEqual([start, start + 250, start + 500]);
    release();
  });

  it('tries a failed folded signal again, a few times, and tells of each failure', async () => {
    const { sent, wake } = recorder((n) => n === 2 || n === 3);
    const errors: string[] = [];
    const waker = coalescedWaker(wake, 250, (error) => errors.push((error as Error).message));
    await waker();
    await waker();
    await vi.advanceTimersByTimeAsync(250 + 1_000 + 1_000);
    expect(errors).toEqual(['signal 2 refused', 'signal 3 refused']);
    expect(sent).toHaveLength(2);
  });

  it('tries a failed first signal again a second later, and still tells its caller', async () => {
    const { sent, wake } = recorder((n) => n === 1);
    const errors: string[] = [];
    const waker = coalescedWaker(wake, 250, (error) => errors.push((error as Error).message));
    const start = Date.now();
    await expect(waker()).rejects.toThrow('signal 1 refused');
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([start + 1_000]);
    expect(errors).toEqual(['signal 1 refused']);
  });

  it('is not held back when the wall clock steps back', async () => {
    const { sent, wake } = recorder();
    const waker = coalescedWaker(wake, 250);
    await waker();
    // An hour back (a clock corrected by NTP): the spells go by the monotonic clock.
    vi.setSystemTime(Date.now() - 3_600_000);
    await vi.advanceTimersByTimeAsync(300);
    await waker();
    expect(sent).toHaveLength(2);
  });

  it('gives up on a folded signal after three tries', async () => {
    const { sent, wake } = recorder((n) => n > 1);
    const errors: unknown[] = [];
    const waker = coalescedWaker(wake, 250, (error) => errors.push(error));
    await waker();
    await waker();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(errors).toHaveLength(3);
    expect(sent).toHaveLength(1);
  });
});
