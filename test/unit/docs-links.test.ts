import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * Every reference into the documentation resolves (issue 13): relative markdown links and their
 * #anchors in README.md, SECURITY.md and docs/*.md; backticked repository paths in those files;
 * and the `docs/NAME.md §Heading` references in code comments.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces → `-`. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The markdown without its fenced code blocks (a `# comment` in a shell block is no heading). */
export function withoutFences(md: string): string {
  return md.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '');
}

/** The headings of a markdown text, as written. */
export function headings(md: string): string[] {
  return [...withoutFences(md).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) => m[1]);
}

/** The anchors of a markdown text, with GitHub's `-1`, `-2`… for repeated headings. */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const h of headings(md)) {
    const s = slug(h);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n === 0 ? s : `${s}-${n}`);
  }
  return out;
}

/** Relative link targets `](target)` of a markdown text (outside code fences and code spans). */
export function links(md: string): string[] {
  const text = withoutFences(md).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** Problems with one markdown file's links: a missing file, or a missing heading for an anchor. */
export function brokenLinks(file: string, read: (path: string) => string | undefined): string[] {
  const md = read(file);
  if (md === undefined) return [`${file}: unreadable`];
  const out: string[] = [];
  for (const target of links(md)) {
    const [path, anchor] = target.split('#', 2) as [string, string | undefined];
    const targetFile = path === '' ? file : join(dirname(file), decodeURI(path));
    const body = read(targetFile);
    if (body === undefined) {
      out.push(`${file}: link to ${target}: no such file`);
      continue;
    }
    if (anchor !== undefined && targetFile.endsWith('.md') && !anchors(body).has(anchor)) {
      out.push(`${file}: link to ${target}: no heading with that anchor`);
    }
  }
  return out;
}

const readRepo = (path: string): string | undefined => {
  const full = join(root, path);
  if (!existsSync(full)) return undefined;
  return statSync(full).isDirectory() ? '' : readFileSync(full, 'utf8');
};

const docFiles = ['README.md', 'SECURITY.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Files under `dir` (repository-relative) with one of the extensions, node_modules skipped. */
function walk(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...walk(path, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) out.push(path);
  }
  return out;
}

// Paths the docs name that are made by a build or a run, not kept in the repository.
const generated = ['bench/results/', 'src/miner/wasm/build/', 'dist/', '.data/'];

describe('the helpers', () => {
  it('make GitHub anchors, numbering repeated headings', () => {
    expect(slug('The window.tabchain API')).toBe('the-windowtabchain-api');
    expect(slug('Chain state, connect and undo')).toBe('chain-state-connect-and-undo');
    expect(slug('Scenario 1 — a fork and its reorg')).toBe('scenario-1--a-fork-and-its-reorg');
    expect([...anchors('# A\n## The relay\n```sh\n# not a heading\n```\n### The relay\n')]).toEqual(['a', 'the-relay', 'the-relay-1']);
  });

  it('find a broken file link and a broken anchor, and pass good ones', () => {
    const files: Record<string, string> = {
      'README.md': '[a](docs/A.md#two) [b](docs/B.md) [c](#top) [d](https://example.org/x.md) `[e](nowhere.md)`\n# Top\n',
      'docs/A.md': '# One\n## Two\n[back](../README.md#top) [bad](../README.md#bottom)\n',
    };
    const read = (p: string) => files[p.replace(/\\/g, '/')];
    expect(brokenLinks('README.md', read)).toEqual(['README.md: link to docs/B.md: no such file']);
    expect(brokenLinks('docs/A.md', read)).toEqual(['docs/A.md: link to ../README.md#bottom: no heading with that anchor']);
  });
});

describe('the documentation', () => {
  it.each(docFiles)('%s: every relative link and anchor resolves', (file) => {
    expect(brokenLinks(file, readRepo)).toEqual([]);
  });

  it.each(docFiles)('%s: every backticked repository path exists', (file) => {
    const md = readRepo(file) ?? '';
    const missing = [...md.matchAll(/`((?:src|test|bench|relay|scripts|stubs|public|docs)\/[^`\s*…<>]*[^`\s*…<>/.])\/?`/g)]
      .map((m) => m[1])
      .filter((p) => !generated.some((g) => `${p}/`.startsWith(g)) && !existsSync(join(root, p)));
    expect(missing).toEqual([]);
  });

  it('every `docs/NAME.md §Heading` in code and docs names a file and a heading that exist', () => {
    const files = [...walk('src', ['.ts', '.svelte']), ...walk('test', ['.ts']), ...walk('bench', ['.ts']), ...walk('relay', ['.ts']), ...walk('scripts', ['.ts']), 'eslint.config.js', ...docFiles];
    const problems: string[] = [];
    let sections = 0;
    for (const file of files.filter((f) => f !== 'test/unit/docs-links.test.ts')) {
      // Join comment lines so that a heading broken over two lines reads as one.
      const text = readFileSync(join(root, file), 'utf8').replace(/\s*\n\s*(?:\*|\/\/)?\s*/g, ' ');
      for (const m of text.matchAll(/(?<![\w/.-])((?:docs\/)?[A-Z]+\.md)(?: \(?§([^§]{1,80}))?/g)) {
        const name = m[1];
        const candidates = name.startsWith('docs/') ? [name] : file.startsWith('docs/') ? [`docs/${name}`] : [name, `docs/${name}`];
        const body = candidates.map(readRepo).find((b) => b !== undefined);
        if (body === undefined) {
          if (name.startsWith('docs/')) problems.push(`${file}: ${name}: no such file`);
          continue;
        }
        if (m[2] === undefined) continue;
        sections += 1;
        if (!headings(body).some((h) => m[2].startsWith(h) && !/^[\p{L}\p{N}]/u.test(m[2].slice(h.length)))) problems.push(`${file}: ${name} §${m[2].slice(0, 40)}…: no such heading`);
      }
    }
    expect(problems).toEqual([]);
    expect(sections).toBeGreaterThan(10);
  });
});
