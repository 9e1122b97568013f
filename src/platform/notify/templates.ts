import type { Config } from '../config/config.ts';

export type Locale = Config['locale']['default'];
export const LOCALES: readonly Locale[] = ['en', 'ko'];

/** One locale's wording. `{{key}}` (or `{{order.number}}`) placeholders are filled from the data object. */
export interface TemplateContent {
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  /** Short SMS wording; a template without it cannot go out by SMS (an email body is too long). */
  readonly sms?: string;
  /** In-app title/body; default to `subject`/`text`. */
  readonly title?: string;
  readonly body?: string;
}

export interface TemplateDefinition {
  readonly name: string;
  /** English is required: it is the fallback for every other locale. */
  readonly locales: { readonly en: TemplateContent } & {
    readonly [L in Exclude<Locale, 'en'>]?: TemplateContent;
  };
}

export interface RenderedTemplate {
  /** The locale actually used (after fallback); store it with the message. */
  readonly locale: Locale;
  readonly subject: string;
  readonly text: string;
  readonly html: string | null;
  readonly sms: string | null;
  readonly title: string;
  readonly body: string;
}

export type TemplateData = Readonly<Record<string, unknown>>;

/**
 * Rendering fails on a bug in the caller or the template, never on a transient condition, so it is
 * `permanent`: the job layer must not retry it.
 */
export class TemplateError extends Error {
  readonly permanent = true;
  readonly code: 'template_not_found' | 'template_invalid' | 'template_data_missing';
  /** The placeholder keys the data object lacked (for `template_data_missing`). */
  readonly missing: readonly string[];

  constructor(code: TemplateError['code'], message: string, missing: readonly string[] = []) {
    super(message);
    this.name = 'TemplateError';
    this.code = code;
    this.missing = missing;
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\s*\}\}/g;
const PARTS = ['subject', 'text', 'html', 'sms', 'title', 'body'] as const;
const registry = new Map<string, TemplateDefinition>();

/** Validates and registers a template; the one call a module makes to add one. Returns it for reference. */
export function defineTemplate<const T extends TemplateDefinition>(definition: T): T {
  registerTemplate(definition);
  return definition;
}

export function registerTemplate(definition: TemplateDefinition): void {
  const { name } = definition;
  if (!/^[a-z][\w-]*(\.[a-z][\w-]*)+$/.test(name)) {
    throw new TemplateError('template_invalid', `Template name "${name}" must look like "module.event"`);
  }
  const existing = registry.get(name);
  if (existing === definition) return;
  if (existing) throw new TemplateError('template_invalid', `Template "${name}" is already registered`);
  for (const [locale, content] of Object.entries(definition.locales)) {
    if (!LOCALES.includes(locale as Locale)) {
      throw new TemplateError('template_invalid', `Template "${name}" has unknown locale "${locale}"`);
    }
    for (const part of PARTS) {
      const source = content?.[part];
      // A leftover `{{` means a typo such as `{{order-number}}` that would otherwise ship verbatim.
      if (source !== undefined && /\{\{|\}\}/.test(source.replace(PLACEHOLDER, ''))) {
        throw new TemplateError(
          'template_invalid',
          `Template "${name}" (${locale}.${part}) has a malformed {{…}}`,
        );
      }
    }
  }
  registry.set(name, Object.freeze(definition));
}

export function getTemplate(name: string): TemplateDefinition {
  const definition = registry.get(name);
  if (!definition) throw new TemplateError('template_not_found', `Unknown template "${name}"`);
  return definition;
}

export function listTemplates(): readonly TemplateDefinition[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** `ko-KR` → `ko`; anything without a translation → `en`. */
export function resolveLocale(definition: TemplateDefinition, requested: string | undefined): Locale {
  const language = (requested ?? '').toLowerCase().split(/[-_]/)[0] as Locale;
  return LOCALES.includes(language) && definition.locales[language] ? language : 'en';
}

export function renderTemplate(
  name: string,
  locale: string | undefined,
  data: TemplateData,
): RenderedTemplate {
  const definition = getTemplate(name);
  const resolved = resolveLocale(definition, locale);
  const content = definition.locales[resolved] ?? definition.locales.en;

  // Check every part first so one error lists every missing key, not just the first one hit.
  const missing = new Set<string>();
  for (const part of PARTS) {
    for (const match of (content[part] ?? '').matchAll(PLACEHOLDER)) {
      if (!isScalar(lookup(data, match[1]!))) missing.add(match[1]!);
    }
  }
  if (missing.size > 0) {
    const keys = [...missing];
    throw new TemplateError(
      'template_data_missing',
      `Template "${name}" (${resolved}) is missing data for: ${keys.join(', ')}`,
      keys,
    );
  }

  const fill = (source: string, encode: (value: string) => string) =>
    source.replace(PLACEHOLDER, (_, key: string) => encode(String(lookup(data, key))));
  const plain = (source: string) => fill(source, (value) => value);
  const subject = plain(content.subject);
  const text = plain(content.text);
  return {
    locale: resolved,
    subject,
    text,
    html: content.html === undefined ? null : fill(content.html, escapeHtml),
    sms: content.sms === undefined ? null : plain(content.sms),
    title: content.title === undefined ? subject : plain(content.title),
    body: content.body === undefined ? text : plain(content.body),
  };
}

function lookup(data: TemplateData, path: string): unknown {
  let value: unknown = data;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

// Objects would render as "[object Object]"; callers format dates and money before rendering.
function isScalar(value: unknown): value is string | number | bigint | boolean {
  return ['string', 'number', 'bigint', 'boolean'].includes(typeof value);
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Sent by the ops check to prove a channel is wired end to end; needs no data. */
export const platformTestTemplate = defineTemplate({
  name: 'platform.test',
  locales: {
    en: {
      subject: 'Test message from Caravan',
      text: 'Test message from Caravan. If you can read this, delivery works.',
      html: '<p>Test message from Caravan.</p><p>If you can read this, delivery works.</p>',
      sms: 'Test message from Caravan.',
      body: 'If you can read this, delivery works.',
    },
    ko: {
      subject: 'Caravan 테스트 메시지',
      text: 'Caravan 테스트 메시지입니다. 이 내용이 보이면 발송이 정상입니다.',
      html: '<p>Caravan 테스트 메시지입니다.</p><p>이 내용이 보이면 발송이 정상입니다.</p>',
      sms: 'Caravan 테스트 메시지입니다.',
      body: '이 내용이 보이면 발송이 정상입니다.',
    },
  },
});
