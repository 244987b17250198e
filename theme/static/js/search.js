// Search for /search/: queries the static index written by gongkai/search (shards.py) in the browser.
//
// It folds and splits text exactly like plugins/gongkai/search/analysis.py (Traditional → Simplified
// one code point at a time with the table in meta.json, full-width → ASCII, A–Z → a–z; CJK runs
// become overlapping bigrams, a lone CJK character a unigram, letters and digits whole words),
// downloads only the shards of the query's terms and the records on screen, scores each posting with
// BM25F from its term frequencies and field lengths and the statistics in meta.json, and ranks as
// whoosh ranks: all terms must match (else any term), highest score first, ties by document number. No dependencies, no inline script, no eval.

const CJK_RANGES = [[0x3007, 0x3007], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xf900, 0xfaff], [0x20000, 0x3134f]];
const MAX_WORD = 40;
const PAGE_SIZE = 10;
const SNIPPET_LENGTH = 110;
const TYPING_DELAY_MS = 120;

const isCjk = (c) => CJK_RANGES.some(([low, high]) => c >= low && c <= high);
const isAlnum = (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);

export class Analyzer {
  /** @param {string} pairs Traditional and Simplified characters, alternating (meta.json "fold"). */
  constructor(pairs) {
    this.table = new Map();
    const chars = Array.from(pairs);
    for (let i = 0; i + 1 < chars.length; i += 2) this.table.set(chars[i].codePointAt(0), chars[i + 1].codePointAt(0));
  }

  fold(c) {
    if (c >= 0x41 && c <= 0x5a) return c + 32;
    if (c >= 0xff01 && c <= 0xff5e) {
      c -= 0xfee0;
      return c >= 0x41 && c <= 0x5a ? c + 32 : c;
    }
    if (c === 0x3000) return 0x20;
    const folded = this.table.get(c);
    return folded === undefined ? c : folded;
  }

  /** Tokens of `text` with their place in it (UTF-16 offsets), like analysis.tokens. */
  tokens(text) {
    const codes = [];
    for (let i = 0; i < text.length;) {
      const c = text.codePointAt(i);
      const width = c > 0xffff ? 2 : 1;
      codes.push([this.fold(c), i, i + width]);
      i += width;
    }
    const out = [];
    let i = 0;
    while (i < codes.length) {
      const c = codes[i][0];
      if (isCjk(c)) {
        let j = i;
        while (j < codes.length && isCjk(codes[j][0])) j++;
        if (j - i === 1) out.push({ text: String.fromCodePoint(c), start: codes[i][1], end: codes[i][2] });
        for (let k = i; k < j - 1; k++) {
          out.push({ text: String.fromCodePoint(codes[k][0], codes[k + 1][0]), start: codes[k][1], end: codes[k + 1][2] });
        }
        i = j;
      } else if (isAlnum(c)) {
        let j = i;
        while (j < codes.length && isAlnum(codes[j][0])) j++;
        const word = codes.slice(i, Math.min(j, i + MAX_WORD)).map((x) => x[0]);
        out.push({ text: String.fromCodePoint(...word), start: codes[i][1], end: codes[j - 1][2] });
        i = j;
      } else {
        i++;
      }
    }
    return out;
  }

  /** The distinct terms of a query, in the order typed (analysis.query_terms). */
  queryTerms(query) {
    return [...new Set(this.tokens(query).map((t) => t.text))];
  }
}

/** FNV-1a over code points, then mixed: shards.term_hash. */
export function termHash(term) {
  let h = 0x811c9dc5;
  for (const ch of term) h = Math.imul(h ^ ch.codePointAt(0), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

/** whoosh's BM25 of one field (whoosh.scoring.bm25), times the field's boost. */
function bm25(idf, tf, length, avgfl, k1, b, boost) {
  return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + (b * length) / avgfl))) * boost;
}

/** Reads unsigned LEB128 varints (and byte strings) from a buffer (shards.varint). */
class Varints {
  constructor(buffer) {
    this.bytes = new Uint8Array(buffer);
    this.at = 0;
  }

  more() {
    return this.at < this.bytes.length;
  }

  read() {
    let value = 0;
    let scale = 1;
    let byte;
    do {
      byte = this.bytes[this.at++];
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return value;
  }

  take(length) {
    this.at += length;
    return this.bytes.subarray(this.at - length, this.at);
  }
}

/**
 * The postings of `wanted` terms in one shard (format in shards.py), scored with BM25F as whoosh
 * scores a term searched in every field: term → [docs, scores].
 */
function readShard(buffer, wanted, meta) {
  const input = new Varints(buffer);
  const read = () => input.read();
  const decoder = new TextDecoder();
  const fields = meta.fields;
  const n = meta.count;
  const avgfl = fields.map((f) => f.length / (n || 1) || 1);
  const found = new Map();
  while (input.more()) {
    const term = decoder.decode(input.take(read()));
    const count = read();
    const distinct = read();
    const combos = new Array(distinct); // [[field, tf, length], ...] per distinct combo
    for (let i = 0; i < distinct; i++) {
      const mask = read();
      const parts = [];
      for (let f = 0; f < fields.length; f++) if (mask & (1 << f)) parts.push([f, read(), read()]);
      combos[i] = parts;
    }
    const docs = new Int32Array(count);
    let doc = 0;
    for (let i = 0; i < count; i++) docs[i] = doc += read();
    const which = new Int32Array(count);
    if (distinct > 1) for (let i = 0; i < count; i++) which[i] = read();
    if (!wanted.has(term)) continue;
    const df = fields.map(() => 0);
    for (let i = 0; i < count; i++) for (const [f] of combos[which[i]]) df[f]++;
    const idf = df.map((d) => Math.log(n / (d + 1)) + 1);
    const comboScores = combos.map((parts) => {
      let score = 0;
      for (const [f, tf, fl] of parts) score += bm25(idf[f], tf, fl, avgfl[f], meta.k1, meta.b, fields[f].boost);
      return score;
    });
    const scores = new Float64Array(count);
    for (let i = 0; i < count; i++) scores[i] = comboScores[which[i]];
    found.set(term, [docs, scores]);
  }
  return found;
}

export class StaticIndex {
  constructor(root) {
    this.root = root;
    this.shards = new Map();
    this.docs = new Map();
  }

  async load() {
    const response = await fetch(this.root + "meta.json");
    if (!response.ok) throw new Error(`meta.json: ${response.status}`);
    this.meta = await response.json();
    this.analyzer = new Analyzer(this.meta.fold);
    this.regionNames = new Map(this.meta.regions.map((r) => [r.id, r.name]));
    this.kindNames = new Map(this.meta.kinds.map((k) => [k.id, k.name]));
    this.regionChains = this.meta.regions.map((_, i) => {
      const chain = [];
      for (let r = i; r !== null && r !== undefined; r = this.meta.regions[r].parent) chain.push(this.meta.regions[r].id);
      return chain;
    });
    return this;
  }

  shard(number) {
    if (!this.shards.has(number)) {
      this.shards.set(number, fetch(`${this.root}t/${number.toString(16)}.bin`).then((r) => {
        if (r.status === 404) return new ArrayBuffer(0); // no term of this index hashes here
        if (!r.ok) throw new Error(`shard ${number}: ${r.status}`);
        return r.arrayBuffer();
      }));
    }
    return this.shards.get(number);
  }

  doc(n) {
    if (!this.docs.has(n)) {
      this.docs.set(n, fetch(`${this.root}${this.meta.docs}${n}.json`).then((r) => {
        if (!r.ok) throw new Error(`document ${n}: ${r.status}`);
        return r.json();
      }));
    }
    return this.docs.get(n);
  }

  /** Document number → its (kind, region, year) in meta.groups, from facets.bin (fetched once, when a query is filtered). */
  facets() {
    if (!this.groupOf) {
      this.groupOf = fetch(`${this.root}facets.bin`).then((r) => {
        if (!r.ok) throw new Error(`facets.bin: ${r.status}`);
        return r.arrayBuffer();
      }).then((buffer) => {
        const input = new Varints(buffer);
        const groupOf = new Map();
        this.meta.groups.forEach((group) => {
          let n = 0;
          for (let count = input.read(); count > 0; count--) groupOf.set(n += input.read(), group);
        });
        return groupOf;
      });
    }
    return this.groupOf;
  }

  accepts(n, filters, groupOf) {
    if (!groupOf) return true;
    const [kind, region, year] = groupOf.get(n);
    return (!filters.kind || this.meta.kinds[kind].id === filters.kind)
      && (!filters.region || this.regionChains[region].includes(filters.region))
      && (!filters.year || this.meta.years[year] === filters.year);
  }

  /** Ranked document numbers for `query`: {terms, all (every term matched), hits: [[n, score]]}. */
  async search(query, filters = {}) {
    const terms = this.analyzer.queryTerms(query);
    if (!terms.length) return { terms, all: true, hits: [] };
    const wanted = new Set(terms);
    const byShard = new Map();
    for (const term of terms) {
      const number = termHash(term) % this.meta.shards;
      if (!byShard.has(number)) byShard.set(number, []);
      byShard.get(number).push(term);
    }
    const postings = new Map();
    await Promise.all([...byShard.keys()].map(async (number) => {
      const found = readShard(await this.shard(number), wanted, this.meta);
      for (const [term, list] of found) postings.set(term, list);
    }));
    const lists = terms.map((t) => postings.get(t) || [new Int32Array(0), new Float64Array(0)]);
    const groupOf = filters.kind || filters.region || filters.year ? await this.facets() : null;
    let hits = this.combine(lists, filters, groupOf, true);
    let all = true;
    if (!hits.length && lists.length > 1) {
      hits = this.combine(lists, filters, groupOf, false);
      all = false;
    }
    hits.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    return { terms, all, hits };
  }

  combine(lists, filters, groupOf, every) {
    const sums = new Map();
    const seen = new Map();
    for (const [docs, values] of lists) {
      for (let i = 0; i < docs.length; i++) {
        sums.set(docs[i], (sums.get(docs[i]) || 0) + values[i]);
        seen.set(docs[i], (seen.get(docs[i]) || 0) + 1);
      }
    }
    const hits = [];
    for (const [n, sum] of sums) {
      if (every && seen.get(n) !== lists.length) continue;
      if (this.accepts(n, filters, groupOf)) hits.push([n, sum]);
    }
    return hits;
  }
}

// --- the page ---------------------------------------------------------------------------------

/** [start, end) ranges of `text` where a token of the query occurs, merged. */
function matches(analyzer, text, wanted) {
  const ranges = [];
  for (const token of analyzer.tokens(text)) {
    if (!wanted.has(token.text)) continue;
    const last = ranges[ranges.length - 1];
    if (last && token.start <= last[1]) last[1] = Math.max(last[1], token.end);
    else ranges.push([token.start, token.end]);
  }
  return ranges;
}

/** Append `text` to `parent`, the matched parts in <mark>. */
function appendMarked(parent, text, ranges, offset = 0) {
  let at = offset;
  for (const [start, end] of ranges) {
    if (start > at) parent.append(text.slice(at, start));
    const mark = document.createElement("mark");
    mark.textContent = text.slice(Math.max(start, at), end);
    parent.append(mark);
    at = end;
  }
  parent.append(text.slice(at));
}

/** The window of the snippet text with the most matches (its start and ranges within it). */
function bestWindow(text, ranges) {
  let best = [0, 0];
  for (const [start] of ranges) {
    const from = Math.max(0, start - 20);
    const count = ranges.filter(([s, e]) => s >= from && e <= from + SNIPPET_LENGTH).length;
    if (count > best[1]) best = [from, count];
  }
  const from = best[0];
  const to = Math.min(text.length, from + SNIPPET_LENGTH);
  return { from, to, ranges: ranges.filter(([s, e]) => s >= from && e <= to) };
}

class SearchPage {
  constructor(root) {
    this.root = root;
    this.base = root.dataset.base;
    this.form = document.getElementById("search-form");
    this.input = document.getElementById("search-q");
    this.filters = { kind: "search-kind", region: "search-region", year: "search-year" };
    for (const key of Object.keys(this.filters)) this.filters[key] = document.getElementById(this.filters[key]);
    this.status = document.getElementById("search-status");
    this.results = document.getElementById("search-results");
    this.more = document.getElementById("search-more");
    this.index = new StaticIndex(root.dataset.index);
    this.ready = this.index.load();
    this.generation = 0;
  }

  start() {
    document.getElementById("search-loading").hidden = true;
    const params = new URLSearchParams(location.search);
    this.input.value = params.get("q") || "";
    for (const [key, select] of Object.entries(this.filters)) select.value = params.get(key) || "";
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(true);
    });
    let timer;
    this.input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.run(false), TYPING_DELAY_MS);
    });
    for (const select of Object.values(this.filters)) select.addEventListener("change", () => this.run(true));
    this.more.addEventListener("click", () => this.showMore(true));
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        const first = this.results.querySelector("a");
        if (first) {
          event.preventDefault();
          first.focus();
        }
      }
    });
    this.results.addEventListener("keydown", (event) => this.moveFocus(event));
    window.addEventListener("popstate", () => {
      const p = new URLSearchParams(location.search);
      this.input.value = p.get("q") || "";
      for (const [key, select] of Object.entries(this.filters)) select.value = p.get(key) || "";
      this.run(false, false);
    });
    if (this.input.value.trim()) this.run(false, false);
    else {
      this.ready.then(() => {
        this.results.dataset.query = "";
        this.results.dataset.state = "done";
      }, (error) => this.fail(error));
    }
  }

  moveFocus(event) {
    const links = [...this.results.querySelectorAll("a")];
    const at = links.indexOf(document.activeElement);
    if (at < 0) return;
    if (event.key === "ArrowDown" && at + 1 < links.length) links[at + 1].focus();
    else if (event.key === "ArrowUp") (at > 0 ? links[at - 1] : this.input).focus();
    else if (event.key === "Escape") this.input.focus();
    else return;
    event.preventDefault();
  }

  currentFilters() {
    const filters = {};
    for (const [key, select] of Object.entries(this.filters)) if (select.value) filters[key] = select.value;
    return filters;
  }

  shareUrl(query, filters) {
    const params = new URLSearchParams();
    if (query) params.set("q", query);
    for (const [key, value] of Object.entries(filters)) params.set(key, value);
    const search = params.toString();
    return location.pathname + (search ? `?${search}` : "");
  }

  async run(push, record = true) {
    const generation = ++this.generation;
    const query = this.input.value.trim();
    const filters = this.currentFilters();
    if (record) {
      const url = this.shareUrl(query, filters);
      if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
    }
    this.results.dataset.state = "loading";
    this.results.dataset.query = query;
    try {
      await this.ready;
      const answer = query ? await this.index.search(query, filters) : { terms: [], all: true, hits: [] };
      if (generation !== this.generation) return;
      this.answer = answer;
      this.shown = 0;
      this.results.replaceChildren();
      await this.showMore(false, generation);
      if (generation !== this.generation) return;
      this.announce(query, answer);
      this.results.dataset.state = "done";
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    }
  }

  announce(query, answer) {
    if (!query) this.status.textContent = "请输入关键词。";
    else if (!answer.hits.length) {
      const lone = answer.terms.some((t) => Array.from(t).length === 1 && isCjk(t.codePointAt(0)));
      this.status.textContent = `没有找到与“${query}”相关的记录。`
        + (lone ? "单个汉字只匹配单独出现的字，请输入两个或更多汉字组成的词。" : "可以换个说法，或减少筛选条件。");
    }
    else if (answer.all) this.status.textContent = `找到 ${answer.hits.length} 条与“${query}”相关的记录。`;
    else this.status.textContent = `没有同时包含全部关键词的记录；以下 ${answer.hits.length} 条包含其中部分关键词。`;
  }

  fail(error) {
    this.status.textContent = "搜索索引加载失败，请刷新页面重试，或直接浏览各栏目。";
    this.results.dataset.state = "error";
    console.error(error);
  }

  async showMore(focus, generation = this.generation) {
    const { hits, terms } = this.answer;
    const page = hits.slice(this.shown, this.shown + PAGE_SIZE);
    const docs = await Promise.all(page.map(([n]) => this.index.doc(n)));
    if (generation !== this.generation) return;
    const wanted = new Set(terms);
    const items = page.map((_, i) => this.item(docs[i], wanted));
    this.results.append(...items);
    this.shown += page.length;
    this.more.hidden = this.shown >= hits.length;
    if (focus && items.length) items[0].querySelector("a").focus();
  }

  item(doc, wanted) {
    const analyzer = this.index.analyzer;
    const li = document.createElement("li");
    li.className = "search-result";
    const heading = document.createElement("h2");
    const link = document.createElement("a");
    link.href = this.base + doc.u;
    appendMarked(link, doc.t, matches(analyzer, doc.t, wanted));
    heading.append(link);
    const meta = document.createElement("p");
    meta.className = "search-meta";
    meta.textContent = [this.index.kindNames.get(doc.k), this.index.regionNames.get(doc.r), doc.d].filter(Boolean).join(" · ");
    li.append(heading, meta);
    if (doc.s) {
      const ranges = matches(analyzer, doc.s, wanted);
      const { from, to, ranges: inside } = bestWindow(doc.s, ranges);
      const snippet = document.createElement("p");
      snippet.className = "search-snippet";
      if (from > 0) snippet.append("…");
      appendMarked(snippet, doc.s.slice(0, to), inside, from);
      if (to < doc.s.length) snippet.append("…");
      li.append(snippet);
    }
    return li;
  }
}

const root = document.getElementById("search");
if (root) new SearchPage(root).start();
