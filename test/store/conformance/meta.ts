/** The meta role (MetaStore): small key/value facts about the store. */
import { describe, expect, it } from 'vitest';
import type { MetaStore } from '../../../src/store/types.js';
import { fresh, type StoreFactory } from './harness.js';

export function describeMetaConformance(name: string, make: StoreFactory<MetaStore>): void {
  describe(`meta role: ${name}`, () => {
    it('returns nothing for a key never set, then the latest value set', async () => {
      const store = await fresh(make);
      expect(await store.getMeta('config')).toBeUndefined();
      await store.setMeta('config', 'a');
      await store.setMeta('other', 'b');
      await store.setMeta('config', 'c');
      expect(await store.getMeta('config')).toBe('c');
      expect(await store.getMeta('other')).toBe('b');
    });

    it('keeps a value exactly, whatever it contains', async () => {
      const store = await fresh(make);
      const value = JSON.stringify({ path: '/etc/caretaker.yaml', note: "it's 'quoted'\n\u00e9\u0000" });
      await store.setMeta('k', value);
      expect(await store.getMeta('k')).toBe(value);
      await store.setMeta('empty', '');
      expect(await store.getMeta('empty')).toBe('');
    });
  });
}
