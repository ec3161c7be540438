import { describe, expect, it } from '@jest/globals';

import { type KnownObject, type KnownState, type LogHead } from './batch-planner.js';
import { objectText } from './object-text.js';
import { WriterMemory } from './writer-memory.js';

const HEAD: LogHead = { seq: 10, hash: 'ab'.repeat(32), atMs: 1_700_000_000_000 };
const NEXT: LogHead = { seq: 12, hash: 'cd'.repeat(32), atMs: 1_700_000_000_500 };

function obj(name: string, rv = 1): KnownObject {
  return { uid: `uid-${name}`, resourceVersion: rv, text: objectText({ metadata: { name } }) };
}

function states(...entries: [string, KnownState][]): Map<string, KnownState> {
  return new Map(entries);
}

/** Which of `ids` the memory still holds. Reading refreshes recency: use it for final checks. */
function held(memory: WriterMemory, ids: string[]): string[] {
  return ids.filter((id) => memory.get(id) !== undefined);
}

describe('WriterMemory', () => {
  it('knows nothing at first', () => {
    const memory = new WriterMemory(10);
    expect(memory.head).toBeUndefined();
    expect(memory.get('a')).toBeUndefined();
  });

  describe('get', () => {
    it('returns undefined for an object it does not remember', () => {
      const memory = new WriterMemory(10);
      memory.learn(states(['a', obj('a')]));
      expect(memory.get('b')).toBeUndefined();
    });

    it('returns null for an object it knows does not exist', () => {
      const memory = new WriterMemory(10);
      memory.learn(states(['gone', null]));
      expect(memory.get('gone')).toBeNull();
      expect(memory.get('gone')).not.toBeUndefined();
    });

    it('returns the remembered state of an object', () => {
      const memory = new WriterMemory(10);
      const a = obj('a', 4);
      memory.learn(states(['a', a]));
      expect(memory.get('a')).toEqual(a);
    });
  });

  describe('learn', () => {
    it('remembers objects without changing the head', () => {
      const memory = new WriterMemory(10);
      memory.learn(states(['a', obj('a')]));
      expect(memory.head).toBeUndefined();

      memory.advance(HEAD, new Map());
      memory.learn(states(['b', obj('b')], ['c', null]));
      expect(memory.head).toBe(HEAD);
      expect(memory.get('b')).toEqual(obj('b'));
      expect(memory.get('c')).toBeNull();
    });

    it('replaces what it remembered of an object', () => {
      const memory = new WriterMemory(10);
      memory.learn(states(['a', obj('a', 1)]));
      memory.learn(states(['a', obj('a', 2)]));
      expect(memory.get('a')).toEqual(obj('a', 2));
      memory.learn(states(['a', null]));
      expect(memory.get('a')).toBeNull();
    });
  });

  describe('advance', () => {
    it('sets the head and the changed objects together', () => {
      const memory = new WriterMemory(10);
      memory.learn(states(['a', obj('a', 1)], ['b', obj('b', 2)]));
      memory.advance(NEXT, states(['a', obj('a', 11)], ['b', null], ['c', obj('c', 12)]));

      expect(memory.head).toEqual(NEXT);
      expect(memory.get('a')).toEqual(obj('a', 11));
      expect(memory.get('b')).toBeNull();
      expect(memory.get('c')).toEqual(obj('c', 12));
    });

    it('moves the head even when the batch changed no object', () => {
      const memory = new WriterMemory(10);
      memory.advance(HEAD, states(['a', obj('a')]));
      memory.advance(NEXT, new Map());
      expect(memory.head).toEqual(NEXT);
      expect(memory.get('a')).toEqual(obj('a'));
    });
  });

  describe('forget', () => {
    it('clears the head and every object', () => {
      const memory = new WriterMemory(10);
      memory.learn(states(['a', obj('a')], ['b', null]));
      memory.advance(HEAD, states(['c', obj('c')]));
      memory.forget();

      expect(memory.head).toBeUndefined();
      expect(memory.get('a')).toBeUndefined();
      expect(memory.get('b')).toBeUndefined();
      expect(memory.get('c')).toBeUndefined();
    });

    it('can learn again afterwards', () => {
      const memory = new WriterMemory(10);
      memory.advance(HEAD, states(['a', obj('a')]));
      memory.forget();
      memory.advance(NEXT, states(['b', obj('b')]));
      expect(memory.head).toEqual(NEXT);
      expect(memory.get('a')).toBeUndefined();
      expect(memory.get('b')).toEqual(obj('b'));
    });
  });

  describe('capacity', () => {
    it('evicts the least recently remembered object beyond capacity', () => {
      const memory = new WriterMemory(3);
      memory.learn(states(['a', obj('a')], ['b', obj('b')], ['c', null]));
      memory.learn(states(['d', obj('d')]));
      expect(held(memory, ['a', 'b', 'c', 'd'])).toEqual(['b', 'c', 'd']);
    });

    it('counts a known-absent object like any other', () => {
      const memory = new WriterMemory(2);
      memory.learn(states(['a', null], ['b', null], ['c', null]));
      expect(memory.get('a')).toBeUndefined();
      expect(memory.get('b')).toBeNull();
      expect(memory.get('c')).toBeNull();
    });

    it('refreshes an object’s recency when it is read', () => {
      const memory = new WriterMemory(3);
      memory.learn(states(['a', obj('a')], ['b', obj('b')], ['c', obj('c')]));
      expect(memory.get('a')).toEqual(obj('a'));
      memory.learn(states(['d', obj('d')]));
      // b, not a, was the least recently used.
      expect(memory.get('b')).toBeUndefined();
      expect(memory.get('a')).toEqual(obj('a'));
      expect(memory.get('c')).toEqual(obj('c'));
      expect(memory.get('d')).toEqual(obj('d'));
    });

    it('does not give a place to an object it was asked about but does not remember', () => {
      const memory = new WriterMemory(2);
      memory.learn(states(['a', obj('a')]));
      expect(memory.get('zzz')).toBeUndefined();
      memory.learn(states(['b', obj('b')]));
      expect(held(memory, ['a', 'b', 'zzz'])).toEqual(['a', 'b']);
      memory.learn(states(['c', obj('c')]));
      expect(held(memory, ['a', 'b', 'c', 'zzz'])).toEqual(['b', 'c']);
    });

    it('refreshes an object’s recency when it is written again', () => {
      const memory = new WriterMemory(3);
      memory.learn(states(['a', obj('a', 1)], ['b', obj('b')], ['c', obj('c')]));
      memory.advance(HEAD, states(['a', obj('a', 2)]));
      memory.advance(NEXT, states(['d', obj('d')]));
      expect(memory.get('b')).toBeUndefined();
      expect(memory.get('a')).toEqual(obj('a', 2));
      expect(memory.get('c')).toEqual(obj('c'));
      expect(memory.get('d')).toEqual(obj('d'));
    });

    it('evicts as many as needed when one batch brings more than there is room for', () => {
      const memory = new WriterMemory(2);
      memory.learn(states(['a', obj('a')]));
      memory.advance(HEAD, states(['b', obj('b')], ['c', obj('c')], ['d', null]));
      expect(memory.head).toEqual(HEAD);
      expect(held(memory, ['a', 'b', 'c', 'd'])).toEqual(['c', 'd']);
    });

    it('evicts in least-recently-used order along a sequence of reads and writes', () => {
      const memory = new WriterMemory(3);
      memory.learn(states(['a', obj('a')], ['b', obj('b')], ['c', obj('c')]));
      memory.get('b');
      memory.get('a');
      // Recency, oldest first: c, b, a.
      memory.learn(states(['d', obj('d')])); // evicts c
      expect(memory.get('c')).toBeUndefined();
      // Now: b, a, d. Reading b makes it a, d, b.
      memory.get('b');
      memory.learn(states(['e', obj('e')])); // evicts a
      expect(memory.get('a')).toBeUndefined();
      expect(memory.get('d')).toEqual(obj('d'));
      expect(memory.get('b')).toEqual(obj('b'));
      expect(memory.get('e')).toEqual(obj('e'));
    });
  });
});
