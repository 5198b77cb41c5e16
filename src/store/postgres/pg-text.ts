/** PostgreSQL text and jsonb hold no NUL character (see store/text-without-nul.ts). */
export { jsonWithoutNul as pgJson, textWithoutNul as pgText } from '../text-without-nul.js';
