import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../harness/build-test-app.ts';

interface MediaType {
  schema?: { examples?: unknown[] };
  example?: unknown;
  examples?: Record<string, unknown>;
}
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType> }>;
}

/** @fastify/swagger moves a schema's `examples` to the media type's `example` / `examples`. */
function hasExample(media: MediaType | undefined): boolean {
  return !!media && (media.example !== undefined || !!media.examples || !!media.schema?.examples?.length);
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

describe('the OpenAPI document', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false });
  });
  afterAll(() => app?.close());

  it('describes every API operation with a summary, its access rule, and request and response examples', async () => {
    const document = (await app.http.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
    };
    const problems: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        operations++;
        const name = `${method.toUpperCase()} ${path}`;
        if (!operation.summary) problems.push(`${name}: no summary`);
        if (!operation.tags?.length) problems.push(`${name}: no tags`);
        if (!operation.description?.includes('Access:')) problems.push(`${name}: no access rule`);
        const body = operation.requestBody?.content['application/json'];
        if (body && !hasExample(body)) problems.push(`${name}: request body without examples`);
        const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
        if (!success) problems.push(`${name}: no success response`);
        if (success && success[0] !== '204' && !hasExample(success[1].content?.['application/json'])) {
          problems.push(`${name}: ${success[0]} response without examples`);
        }
      }
    }
    expect(operations).toBeGreaterThan(30);
    expect(problems).toEqual([]);
  });
});
