import { describe, expect, it } from 'vitest';
import { defineTemplate, getTemplate, listTemplates, renderTemplate, TemplateError } from './templates.ts';

defineTemplate({
  name: 'test.order-shipped',
  locales: {
    en: {
      subject: 'Order {{orderNumber}} has shipped',
      text: 'Hi {{customer.name}}, order {{orderNumber}} is on its way via {{carrier}}.',
      html: '<p>Hi {{customer.name}}, order <b>{{orderNumber}}</b> is on its way via {{carrier}}.</p>',
      sms: 'Caravan: order {{orderNumber}} shipped ({{carrier}}).',
    },
    ko: {
      subject: '주문 {{orderNumber}} 발송 완료',
      text: '{{customer.name}}님, 주문 {{orderNumber}}이(가) {{carrier}}(으)로 발송되었습니다.',
      title: '발송 완료',
      body: '주문 {{orderNumber}}',
    },
  },
});

const data = { orderNumber: 'CV-1001', carrier: 'FedEx', customer: { name: 'Mina' } };

describe('templates', () => {
  it('renders English with every part filled', () => {
    const rendered = renderTemplate('test.order-shipped', 'en', data);
    expect(rendered).toEqual({
      locale: 'en',
      subject: 'Order CV-1001 has shipped',
      text: 'Hi Mina, order CV-1001 is on its way via FedEx.',
      html: '<p>Hi Mina, order <b>CV-1001</b> is on its way via FedEx.</p>',
      sms: 'Caravan: order CV-1001 shipped (FedEx).',
      // In-app title/body default to subject/text.
      title: 'Order CV-1001 has shipped',
      body: 'Hi Mina, order CV-1001 is on its way via FedEx.',
    });
  });

  it('renders Korean, accepting a region tag, and leaves absent parts null', () => {
    const rendered = renderTemplate('test.order-shipped', 'ko-KR', data);
    expect(rendered.locale).toBe('ko');
    expect(rendered.subject).toBe('주문 CV-1001 발송 완료');
    expect(rendered.text).toBe('Mina님, 주문 CV-1001이(가) FedEx(으)로 발송되었습니다.');
    expect(rendered.title).toBe('발송 완료');
    expect(rendered.body).toBe('주문 CV-1001');
    expect(rendered.html).toBeNull();
    expect(rendered.sms).toBeNull();
  });

  it('falls back to English for an unknown or missing locale', () => {
    expect(renderTemplate('test.order-shipped', 'fr', data).locale).toBe('en');
    expect(renderTemplate('test.order-shipped', undefined, data).subject).toBe('Order CV-1001 has shipped');
  });

  it('escapes values in HTML only', () => {
    const rendered = renderTemplate('test.order-shipped', 'en', {
      ...data,
      customer: { name: '<script>alert("x")</script> & Co' },
    });
    expect(rendered.html).toContain('Hi &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; Co,');
    expect(rendered.html).not.toContain('<script>');
    expect(rendered.text).toContain('Hi <script>alert("x")</script> & Co,');
  });

  it('lists every missing key in one error instead of rendering blanks', () => {
    const attempt = () => renderTemplate('test.order-shipped', 'en', { orderNumber: 'CV-1', customer: {} });
    expect(attempt).toThrow(TemplateError);
    expect(attempt).toThrow('missing data for: customer.name, carrier');
    expect(attempt).toThrow(
      expect.objectContaining({
        code: 'template_data_missing',
        permanent: true,
        missing: ['customer.name', 'carrier'],
      }),
    );
  });

  it('treats null and objects as missing, but renders 0', () => {
    expect(() => renderTemplate('test.order-shipped', 'en', { ...data, carrier: null })).toThrow('carrier');
    expect(() => renderTemplate('test.order-shipped', 'en', { ...data, carrier: { id: 1 } })).toThrow(
      'carrier',
    );
    expect(renderTemplate('test.order-shipped', 'en', { ...data, orderNumber: 0 }).subject).toBe(
      'Order 0 has shipped',
    );
  });

  it('rejects unknown names, duplicates and malformed placeholders', () => {
    expect(() => renderTemplate('test.nope', 'en', {})).toThrow('Unknown template "test.nope"');
    expect(() => getTemplate('test.nope')).toThrow(TemplateError);
    const minimal = { en: { subject: 's', text: 't' } };
    expect(() => defineTemplate({ name: 'test.order-shipped', locales: minimal })).toThrow(
      'already registered',
    );
    expect(() => defineTemplate({ name: 'NoDot', locales: minimal })).toThrow('module.event');
    expect(() =>
      defineTemplate({
        name: 'test.typo',
        locales: { en: { subject: 'Order {{order-number}}', text: 't' } },
      }),
    ).toThrow('malformed');
  });

  it('registers platform.test in English and Korean, needing no data', () => {
    expect(listTemplates().map((template) => template.name)).toContain('platform.test');
    expect(renderTemplate('platform.test', 'en', {}).subject).toBe('Test message from Caravan');
    expect(renderTemplate('platform.test', 'ko', {}).subject).toBe('Caravan 테스트 메시지');
    expect(renderTemplate('platform.test', 'ko', {}).sms).toBeTruthy();
  });
});
