// CLIP's tokenizer in the browser: the same ids as mdx's ClipTokenizer (core/src/main/java/dev/mdx/text), which is
// transformers' slow CLIPTokenizer without ftfy. Steps: cut special/added tokens out of the raw text; normalise each
// remaining stretch (drop control characters, whitespace to spaces, spaces around CJK ideographs, NFC, lower-case,
// collapse whitespace); split it into words with CLIP's regex; write each word's UTF-8 bytes in the byte-level
// alphabet; BPE-merge inside each word (the last symbol carries "</w>"); then BOS + ids + EOS, truncated to the model
// length keeping EOS, padded with the pad id.

const END_OF_WORD = '</w>';
const DEFAULT_MAX_LENGTH = 77;

/** CLIP's word pattern (the text is lower-cased before it runs, so no case flag is needed). */
const WORDS = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

/** The CJK ideograph blocks transformers' BasicTokenizer isolates (kana and hangul are not among them). */
const CJK_RANGES = [
  [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f], [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f]];

/** BasicTokenizer's _is_control: category C* except tab, newline and carriage return. */
const CONTROL = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;

/** Python's str.isspace (bidi class WS, B or S, or category Zs), which str.split() and str.strip() use. */
function isPythonSpace(cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp === 0x85 || cp === 0xa0
    || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029
    || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

/** Python's str.split(): pieces between runs of whitespace, no empty ones. */
function pythonSplit(s) {
  const out = [];
  let piece = '';
  for (const ch of s) {
    if (isPythonSpace(ch.codePointAt(0))) {
      if (piece) out.push(piece);
      piece = '';
    } else {
      piece += ch;
    }
  }
  if (piece) out.push(piece);
  return out;
}

function pythonStrip(s) {
  let start = 0;
  let end = s.length;
  while (start < end && isPythonSpace(s.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(s.charCodeAt(end - 1))) end--;
  return s.substring(start, end);
}

/** The text clean-up of the slow CLIPTokenizer without ftfy (mdx's ClipTextNormalizer). */
export function normalize(text) {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    const whitespace = cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d || SPACE_SEPARATOR.test(ch);
    if (cp === 0 || cp === 0xfffd || (!whitespace && CONTROL.test(ch))) {
      continue;
    }
    if (whitespace) {
      cleaned += ' ';
    } else if (CJK_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi)) {
      cleaned += ' ' + ch + ' ';
    } else {
      cleaned += ch;
    }
  }
  const pieces = [];
  for (const piece of pythonSplit(cleaned.normalize('NFC'))) {
    pieces.push(...pythonSplit(piece.toLowerCase()));
  }
  return pieces.join(' ');
}

/**
 * GPT-2/CLIP bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes map in byte order to
 * U+0100 onwards, so BPE works on strings without whitespace or control characters.
 */
const BYTE_TO_CHAR = (() => {
  const table = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : next++);
  }
  return table;
})();

const UTF8 = new TextEncoder();

function toByteAlphabet(word) {
  let out = '';
  for (const b of UTF8.encode(word)) out += BYTE_TO_CHAR[b];
  return out;
}

/** The words of `text` as CLIP's pre-tokeniser finds them, each in the byte-level alphabet. */
export function words(text) {
  return Array.from(normalize(text).matchAll(WORDS), (m) => toByteAlphabet(m[0]));
}

/** merges.txt: one merge "left right" per line in rank order; a first line starting with '#' is the header. */
export function parseMerges(text) {
  const ranks = new Map();
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let rank = 0;
  lines.forEach((raw, i) => {
    const line = pythonStrip(raw);
    if (!line || (i === 0 && line.startsWith('#'))) return;
    const parts = pythonSplit(line);
    if (parts.length !== 2) {
      throw new Error(`merges.txt: line ${i + 1} is not a merge of two symbols: '${line}'`);
    }
    ranks.set(parts[0] + ' ' + parts[1], rank++);
  });
  return ranks;
}

/** A token written as a plain string or as a serialised AddedToken object ({"content": ...}). */
function tokenText(value, field) {
  if (typeof value === 'string') return value;
  if (value && typeof value.content === 'string') return value.content;
  throw new Error(`tokenizer config: field '${field}' must be a string or {"content": ...}`);
}

/**
 * The parts of tokenizer_config.json / special_tokens_map.json that change the ids (mdx's ClipTokenizerConfig):
 * both optional; special_tokens_map.json counts only when tokenizer_config.json has no added_tokens_decoder.
 */
export function readTokenizerConfig(tokenizerConfig, specialTokensMap) {
  const special = {};
  const added = new Map();
  let maxLength = DEFAULT_MAX_LENGTH;
  const keys = ['bos_token', 'eos_token', 'pad_token', 'unk_token', 'additional_special_tokens'];
  if (tokenizerConfig) {
    for (const k of keys) if (k in tokenizerConfig) special[k] = tokenizerConfig[k];
    for (const [id, t] of Object.entries(tokenizerConfig.added_tokens_decoder || {})) {
      added.set(Number(id), tokenText(t, 'added_tokens_decoder.' + id));
    }
    if (tokenizerConfig.model_max_length != null) maxLength = tokenizerConfig.model_max_length;
  }
  if (added.size === 0 && specialTokensMap) {
    for (const [k, v] of Object.entries(specialTokensMap)) if (v !== null) special[k] = v;
  }
  const end = '<|endoftext|>';
  const pick = (k, fallback) => (k in special ? tokenText(special[k], k) : fallback);
  const extra = special.additional_special_tokens || [];
  return {
    bos: pick('bos_token', '<|startoftext|>'), eos: pick('eos_token', end), pad: pick('pad_token', end),
    unk: pick('unk_token', end), additional: extra.map((t) => tokenText(t, 'additional_special_tokens')),
    maxLength, added,
  };
}

export class ClipTokenizer {
  /**
   * @param vocab token -> id (vocab.json)
   * @param mergeRanks "left right" -> rank (parseMerges of merges.txt)
   * @param config readTokenizerConfig's result
   */
  constructor(vocab, mergeRanks, config) {
    this.vocab = new Map(Object.entries(vocab));
    this.ranks = mergeRanks;
    this.config = config;
    this.addedIds = new Map();
    for (const [id, token] of config.added) this.addedIds.set(token, id);
    const specials = [config.bos, config.eos, config.unk, config.pad, ...config.additional];
    // cut out of the raw text, longest first so that the longest match wins at a position
    this.unsplittable = [...new Set([...specials, ...config.added.values()])].sort((a, b) => b.length - a.length);
    this.bosId = this.requireId(config.bos);
    this.eosId = this.requireId(config.eos);
    this.padId = this.requireId(config.pad);
    this.unkId = this.requireId(config.unk);
    this.cache = new Map();
  }

  /** Loads vocab.json, merges.txt and the optional config files from a folder URL (ending in '/'). */
  static async load(baseUrl) {
    const get = async (name, optional) => {
      const r = await fetch(new URL(name, baseUrl));
      if (!r.ok) {
        if (optional && r.status === 404) return null;
        throw new Error(`${new URL(name, baseUrl)}: HTTP ${r.status}`);
      }
      return r;
    };
    const [vocab, merges, config, map] = await Promise.all([
      get('vocab.json').then((r) => r.json()), get('merges.txt').then((r) => r.text()),
      get('tokenizer_config.json', true).then((r) => r && r.json()),
      get('special_tokens_map.json', true).then((r) => r && r.json())]);
    return new ClipTokenizer(vocab, parseMerges(merges), readTokenizerConfig(config, map));
  }

  idOf(token) {
    return this.addedIds.has(token) ? this.addedIds.get(token) : this.vocab.get(token);
  }

  requireId(token) {
    const id = this.idOf(token);
    if (id === undefined) {
      throw new Error(`tokenizer: special token '${token}' is neither in vocab.json nor in added_tokens_decoder`);
    }
    return id;
  }

  /** BPE symbols of `text` without BOS/EOS (transformers' tokenize). */
  tokenize(text) {
    const out = [];
    for (const piece of this.splitOnAddedTokens(text)) {
      if (piece.added) {
        out.push(piece.text);
      } else {
        for (const word of words(piece.text)) out.push(...this.bpe(word));
      }
    }
    return out;
  }

  /** BOS, the first maxLength - 2 ids, EOS, then padding: the UNet's (maxLength) int ids. */
  encode(text, maxLength = this.config.maxLength) {
    const ids = this.tokenize(text).map((t) => {
      const id = this.idOf(t);
      return id === undefined ? this.unkId : id;
    });
    const kept = Math.min(ids.length, maxLength - 2);
    const inputIds = new Array(maxLength).fill(this.padId);
    inputIds[0] = this.bosId;
    for (let i = 0; i < kept; i++) inputIds[i + 1] = ids[i];
    inputIds[kept + 1] = this.eosId;
    return { inputIds, untruncatedLength: ids.length + 2, truncated: ids.length > kept };
  }

  /** Splits out every added or special token, matched exactly in the raw text: leftmost, then longest. */
  splitOnAddedTokens(text) {
    const out = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.unsplittable.find((t) => text.startsWith(t, i));
      if (hit === undefined) {
        i++;
        continue;
      }
      if (i > start) out.push({ text: text.substring(start, i), added: false });
      out.push({ text: hit, added: true });
      i += hit.length;
      start = i;
    }
    if (start < text.length) out.push({ text: text.substring(start), added: false });
    return out;
  }

  /** One word's BPE symbols: always merge the adjacent pair of lowest rank, until no pair has a rank. */
  bpe(word) {
    if (word === '<|startoftext|>' || word === '<|endoftext|>') return [word];
    const cached = this.cache.get(word);
    if (cached) return cached;
    const chars = Array.from(word);
    let symbols = chars.slice(0, -1);
    symbols.push(chars[chars.length - 1] + END_OF_WORD);
    while (symbols.length > 1) {
      let best = Infinity;
      let first = null;
      let second = null;
      for (let i = 0; i < symbols.length - 1; i++) {
        const r = this.ranks.get(symbols[i] + ' ' + symbols[i + 1]);
        if (r !== undefined && r < best) {
          best = r;
          first = symbols[i];
          second = symbols[i + 1];
        }
      }
      if (first === null) break;
      const merged = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === first && symbols[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      symbols = merged;
    }
    this.cache.set(word, symbols);
    return symbols;
  }
}
