// The project's own suite for notifications-node-client: every operation the
// client offers, through its own methods, against a real crm-host, each
// answer checked against the schemas in ../../schemas (written from GOV.UK
// Notify's API documentation) and the values sent. `node_suite.py` starts
// the host, makes the environment (`notify_env.py`) and runs this with mocha
// once per key type. The tests run in order: later ones read what earlier
// ones sent.

'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020');
const { NotifyClient } = require('notifications-node-client');

const env = process.env;
const base = env.NOTIFY_API_URL;
const keyType = env.KEY_TYPE;
const service = env.SERVICE_ID;
const PAGE = 250;
const SCHEMAS = path.join(__dirname, '..', '..', 'schemas');
const pdf = fs.readFileSync(path.join(__dirname, '..', '..', 'letter.pdf'));
const CSV = Buffer.from('case,status\n1,open\n');
// What a test key's messages end as (Notify's test keys deliver at once).
const TEST_KEY_STATUS = { sms: 'delivered', email: 'delivered', letter: 'received' };
const ADDRESS = {
  address_line_1: 'Ada Lovelace',
  address_line_2: '10 Whitechapel High Street',
  address_line_3: 'London',
  address_line_4: 'E1 8QS',
};
// The functional-test templates filled in: a text message's line ends made
// `\n`, an email's as written (`\r\n`), as Notify's.
const SMS_BODY = 'Hello Ada\n\nFunctional Tests make our world a better place';
const EMAIL_BODY = 'Hello Ada\r\n\r\nFunctional test help make our world a better place';

const ajv = new Ajv2020({ allErrors: true });
for (const file of fs.readdirSync(SCHEMAS).filter((f) => f.endsWith('.json'))) {
  ajv.addSchema(JSON.parse(fs.readFileSync(path.join(SCHEMAS, file))));
}

/** `instance`, if it is a `name` (a schema's file name without `.json`). */
function check(name, instance) {
  const validate = ajv.getSchema(`https://crm.gov.au/schemas/notify-v2/${name}.json`);
  assert.ok(validate(instance), `not a ${name}: ${ajv.errorsText(validate.errors)}`);
  return instance;
}

/** `promise`'s answer body, checked as a `name`. */
async function answer(name, promise) {
  return check(name, (await promise).data);
}

/** `promise` must fail with Notify's error body: `status`, and one error
 * named `error` saying `message`. */
async function refused(promise, status, error, message) {
  let response;
  try {
    await promise;
  } catch (failure) {
    ({ response } = failure);
  }
  assert.ok(response, `succeeded; expected ${status} ${error}: ${message}`);
  check('error', response.data);
  assert.equal(response.status, status);
  assert.deepEqual(response.data, { status_code: status, errors: [{ error, message }] });
}

const client = (key) => new NotifyClient(base, key);
const notify = client(env.API_KEY);
const team = client(env.API_SENDING_KEY);
const run = crypto.randomUUID().slice(0, 8);
const reference = (name) => `${keyType}-${run}-${name}`;
const sent = {};
const number = env.FUNCTIONAL_TEST_NUMBER;
const email = env.FUNCTIONAL_TEST_EMAIL;
const sms = env.SMS_TEMPLATE_ID;
const emailTemplate = env.EMAIL_TEMPLATE_ID;
const letter = env.LETTER_TEMPLATE_ID;
const fileTemplate = env.FILE_EMAIL_TEMPLATE_ID;
const unknown = crypto.randomUUID();
const unsubscribe = `https://example.gov.au/unsubscribe?run=${run}`;

async function sentSms(name, promise, sender) {
  const body = await answer('send_sms_response', promise);
  assert.equal(body.reference, reference(name));
  assert.deepEqual(body.content, { body: SMS_BODY, from_number: sender });
  assert.deepEqual([body.template.id, body.template.version], [sms, 2]);
  assert.equal(body.uri, `${base}/v2/notifications/${body.id}`);
  sent[name] = body;
}

async function sentEmail(name, promise, oneClick = null) {
  const body = await answer('send_email_response', promise);
  assert.equal(body.reference, reference(name));
  assert.equal(body.content.one_click_unsubscribe_url, oneClick);
  assert.deepEqual(body.sanitised_content, {});
  sent[name] = body;
  return body;
}

/** Sends the file template with a file; the link the email gives. */
async function fileLink(name, options) {
  const body = await sentEmail(name, notify.sendEmail(fileTemplate, email, {
    personalisation: { link_to_file: notify.prepareUpload(CSV, { filename: 'report.csv', ...options }) },
    reference: reference(name),
  }));
  const link = /^Download it here: (\S+)$/.exec(body.content.body);
  assert.ok(link && link[1].startsWith(`${base}/`), `no link to the file in ${body.content.body}`);
  return link[1];
}

const postForm = (link, address) => fetch(link, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ email_address: address }),
});

/** One page of the key's messages, checked; and their ids. */
async function listed(templateType, status, ref, olderThan) {
  const page = await answer('notification_list', notify.getNotifications(templateType, status, ref, olderThan));
  return [page, page.notifications.map((n) => n.id)];
}

const olderThanOf = (link) => /older_than=([0-9a-f-]{36})/.exec(link)[1];

describe(`notifications-node-client against crm-host (${keyType} key)`, function () {
  this.timeout(120000);

  describe('send', function () {
    it('sends sms with reference', () => sentSms('sms', notify.sendSms(sms, number, {
      personalisation: { name: 'Ada' }, reference: reference('sms'),
    }), env.SMS_SENDER));

    it('sends sms with smsSenderId', () => sentSms('sms_sender', notify.sendSms(sms, number, {
      personalisation: { name: 'Ada' }, reference: reference('sms_sender'), smsSenderId: env.INBOUND_SMS_SENDER_ID,
    }), env.INBOUND_NUMBER_AS_SENDER));

    // The guest list has 07700900123: the same number, written otherwise.
    it('sends sms with a team key to a guest-list number written otherwise', () => sentSms(
      'team_sms', team.sendSms(sms, '+44 7700 900123', {
        personalisation: { name: 'Ada' }, reference: reference('team_sms'),
      }), env.SMS_SENDER));

    it('refuses a team key sms to a number on no guest list', () => refused(
      team.sendSms(sms, env.NON_GUEST_NUMBER, { personalisation: { name: 'Ada' } }),
      400, 'BadRequestError', 'Can\u2019t send to this recipient using a team-only API key'));

    it('sends email with emailReplyToId', async () => {
      const body = await sentEmail('email', notify.sendEmail(emailTemplate, email, {
        personalisation: { name: 'Ada' }, reference: reference('email'), emailReplyToId: env.EMAIL_REPLY_TO_ID,
      }));
      assert.equal(body.content.subject, 'Functional Tests are good');
      assert.equal(body.content.body, EMAIL_BODY);
    });

    it('sends email with oneClickUnsubscribeURL', () => sentEmail('email_unsubscribe', notify.sendEmail(
      emailTemplate, email, {
        personalisation: { name: 'Ada' }, reference: reference('email_unsubscribe'), oneClickUnsubscribeURL: unsubscribe,
      }), unsubscribe));

    it('sends email with a prepareUpload file, no confirmation, 4 weeks', async () => {
      const download = await fetch(await fileLink('file', { confirmEmailBeforeDownload: false, retentionPeriod: '4 weeks' }));
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), CSV);
      assert.equal(download.headers.get('content-disposition'), 'attachment; filename="report.csv"');
    });

    it('sends email with a prepareUpload file to confirm the address for', async () => {
      const link = await fileLink('confirmed_file', {}); // confirmEmailBeforeDownload defaults to true
      const form = await fetch(link);
      assert.equal(form.status, 200);
      assert.equal(form.headers.get('content-type').split(';')[0], 'text/html');
      assert.ok(!(await form.text()).includes(CSV.toString()), 'the file was given before the address was confirmed');
      assert.equal((await postForm(link, 'someone.else@example.gov.au')).status, 403);
      const right = await postForm(link, email);
      assert.equal(right.status, 200);
      assert.deepEqual(Buffer.from(await right.arrayBuffer()), CSV);
    });

    it('refuses a prepareUpload file kept too long', () => refused(notify.sendEmail(fileTemplate, email, {
      personalisation: { link_to_file: notify.prepareUpload(CSV, { filename: 'report.csv', retentionPeriod: '79 weeks' }) },
    }), 400, 'BadRequestError',
    "Unsupported value for retention_period '79 weeks'. Supported periods are from 1 to 78 weeks."));

    it('sends letter', async () => {
      const body = await answer('send_letter_response', notify.sendLetter(letter, {
        personalisation: ADDRESS, reference: reference('letter'),
      }));
      assert.deepEqual(body.content, { subject: 'Main heading', body: 'Hello Ada Lovelace' });
      assert.equal(body.reference, reference('letter'));
      sent.letter = body;
    });

    for (const [name, postage] of [['precompiled', undefined], ['precompiled_first', 'first']]) {
      it(`sends precompiled letter, ${postage || 'second'} class`, async () => {
        const body = await answer('send_precompiled_letter_response',
          notify.sendPrecompiledLetter(reference(name), pdf, postage));
        assert.deepEqual([body.reference, body.postage], [reference(name), postage || 'second']);
        sent[name] = body;
      });
    }

    it('refuses a precompiled letter that is not a PDF', () => refused(
      notify.sendPrecompiledLetter(reference('not_pdf'), Buffer.from('Dear Ada, this is plain text.')),
      400, 'BadRequestError', 'Letter content is not a valid PDF'));
  });

  describe('get by id', function () {
    const reads = [
      ['sms', 'sms', { phone_number: number, body: SMS_BODY }],
      ['sms_sender', 'sms', { phone_number: number }],
      ['team_sms', 'sms', { phone_number: '+44 7700 900123' }, 'team'],
      ['email', 'email', { email_address: email, subject: 'Functional Tests are good', body: EMAIL_BODY }],
      ['email_unsubscribe', 'email', { one_click_unsubscribe_url: unsubscribe }],
      ['letter', 'letter', {
        line_1: 'Ada Lovelace', line_2: '10 Whitechapel High Street', line_3: 'London', postcode: 'E1 8QS',
        postage: 'second', body: 'Hello Ada Lovelace',
      }],
      ['precompiled', 'letter', { postage: 'second' }],
      ['precompiled_first', 'letter', { postage: 'first' }],
    ];
    for (const [name, type, expected, sentWith = keyType] of reads) {
      it(`gets ${name} by id`, async () => {
        const body = await answer('notification', notify.getNotificationById(sent[name].id));
        assert.deepEqual([body.type, body.reference], [type, sent[name].reference]);
        if (sentWith === 'test') {
          assert.equal(body.status, TEST_KEY_STATUS[type]);
        }
        for (const [field, value] of Object.entries(expected)) {
          assert.equal(body[field], value, field);
        }
      });
    }

    it("gets a live key's message with a test key", async () => {
      sent.live_sms = (await client(env.LIVE_API_KEY).sendSms(sms, number, {
        personalisation: { name: 'Ada' }, reference: reference('live_sms'),
      })).data;
      const body = await answer('notification', client(env.TEST_API_KEY).getNotificationById(sent.live_sms.id));
      assert.deepEqual([body.id, body.reference], [sent.live_sms.id, reference('live_sms')]);
    });

    it('refuses an unknown notification', () => refused(
      notify.getNotificationById(unknown), 404, 'NoResultFound', 'No result found'));
  });

  describe('list', function () {
    it('lists notifications of its key type', async () => {
      const [, ids] = await listed();
      for (const name of ['sms', 'sms_sender', 'email', 'letter', 'precompiled']) {
        assert.ok(ids.includes(sent[name].id), `${name} not listed`);
      }
      assert.equal(ids.includes(sent.live_sms.id), keyType === 'live', "the live key's message");
    });

    it('lists by template_type', async () => {
      for (const type of ['sms', 'email', 'letter']) {
        const [page] = await listed(type);
        assert.deepEqual([...new Set(page.notifications.map((n) => n.type))], [type]);
      }
    });

    it('lists by status', async () => {
      const { status } = (await notify.getNotificationById(sent.sms.id)).data;
      const [page, ids] = await listed(undefined, status);
      assert.deepEqual([...new Set(page.notifications.map((n) => n.status))], [status]);
      assert.ok(ids.includes(sent.sms.id), `the sms (${status}) is not listed by its status`);
    });

    it('lists by reference', async () => {
      const [, ids] = await listed(undefined, undefined, reference('email'));
      assert.deepEqual(ids, [sent.email.id]);
    });

    it('lists older_than', async () => {
      const [, ids] = await listed(undefined, undefined, undefined, sent.email.id);
      assert.ok(!ids.includes(sent.email.id) && !ids.includes(sent.letter.id), 'listed itself or a newer one');
      assert.ok(ids.includes(sent.sms.id), 'left out an older message');
    });

    it('pages with links.next to the last page', async () => {
      const ref = reference('paged');
      const paged = [];
      for (let n = 0; n <= PAGE; n += 8) {
        const batch = Array.from({ length: Math.min(8, PAGE + 1 - n) }, () => notify.sendSms(sms, number, {
          personalisation: { name: 'Ada' }, reference: ref,
        }));
        paged.push(...(await Promise.all(batch)).map((r) => r.data.id));
      }
      let [page, seen] = await listed(undefined, undefined, ref);
      const sizes = [seen.length];
      while (page.links.next) {
        let ids;
        [page, ids] = await listed(undefined, undefined, ref, olderThanOf(page.links.next));
        sizes.push(ids.length);
        seen = seen.concat(ids);
      }
      assert.deepEqual(sizes, [PAGE, 1, 0]);
      assert.deepEqual([...seen].sort(), [...paged].sort());
    });

    it('gets received texts, page by page', async () => {
      const first = await answer('received_text_list', notify.getReceivedTexts());
      const texts = first.received_text_messages;
      assert.equal(texts.length, PAGE);
      assert.deepEqual([texts[0].content, texts[0].notify_number, texts[0].service_id],
        ['Yes, please call me back', env.INBOUND_NUMBER, service]);
      const rest = await answer('received_text_list', notify.getReceivedTexts(olderThanOf(first.links.next)));
      assert.equal(rest.received_text_messages.length, Number(env.RECEIVED_TEXTS) - PAGE);
      const created = texts.concat(rest.received_text_messages).map((t) => t.created_at);
      assert.deepEqual(created, [...created].sort().reverse());
    });
  });

  describe('templates', function () {
    const templates = [
      ['sms', () => notify.getTemplateById(sms), {
        name: 'Client Functional test sms template', version: 2, type: 'sms', personalisation: { name: { required: true } },
      }],
      ['email', () => notify.getTemplateById(emailTemplate), { type: 'email', subject: 'Functional Tests are good' }],
      ['letter', () => notify.getTemplateById(letter), {
        type: 'letter', name: 'Client functional letter template', letter_contact_block: env.CONTACT_BLOCK, postage: 'second',
      }],
      ['sms version 1', () => notify.getTemplateByIdAndVersion(sms, 1), {
        name: 'Example text message template', version: 1, updated_at: null,
      }],
    ];
    for (const [name, get, expected] of templates) {
      it(`gets the ${name} template`, async () => {
        const body = await answer('template', get());
        assert.equal(body.created_by, env.AUTHOR_EMAIL);
        for (const [field, value] of Object.entries(expected)) {
          assert.deepEqual(body[field], value, field);
        }
      });
    }

    it('refuses an unknown template', () => refused(
      notify.getTemplateById(unknown), 404, 'NoResultFound', 'No result found'));

    it('lists templates, all and by type', async () => {
      const all = await answer('template_list', notify.getAllTemplates());
      assert.deepEqual(all.templates.map((t) => t.id).sort(), [sms, emailTemplate, letter, fileTemplate].sort());
      for (const [type, count] of [['sms', 1], ['email', 2], ['letter', 1]]) {
        const typed = await answer('template_list', notify.getAllTemplates(type));
        assert.deepEqual(typed.templates.map((t) => t.type), Array(count).fill(type));
      }
    });

    it('previews the sms template', async () => {
      const body = await answer('template_preview', notify.previewTemplateById(sms, { name: 'Ada' }));
      assert.deepEqual([body.id, body.type, body.version, body.body], [sms, 'sms', 2, SMS_BODY]);
    });

    it('previews the email template', async () => {
      const body = await answer('template_preview', notify.previewTemplateById(emailTemplate, { name: 'Ada' }));
      assert.equal(body.subject, 'Functional Tests are good');
      assert.ok(body.html.includes('Hello Ada'), body.html);
    });

    it('refuses a preview without personalisation', () => refused(
      notify.previewTemplateById(emailTemplate, {}), 400, 'BadRequestError', 'Missing personalisation: name'));
  });

  describe('letter PDFs', function () {
    // Ready as soon as the send was answered: the CRM renders it then.
    it("gets a templated letter's PDF", async () => {
      const content = await notify.getPdfForLetterNotification(sent.letter.id);
      assert.equal(content.subarray(0, 5).toString(), '%PDF-');
      assert.ok(content.toString('latin1').trimEnd().endsWith('%%EOF'));
    });

    it("gets a precompiled letter's PDF as sent", async () => {
      assert.deepEqual(await notify.getPdfForLetterNotification(sent.precompiled.id), pdf);
    });

    it('refuses the PDF of a text message', () => refused(
      notify.getPdfForLetterNotification(sent.sms.id), 400, 'BadRequestError', 'Notification is not a letter'));
  });

  describe('errors', function () {
    it('refuses a bad key', () => refused(
      client(`wrong-${service}-${crypto.randomUUID()}`).getNotifications(),
      403, 'AuthError', 'Invalid token: API key not found'));

    it('refuses an unknown template', () => refused(
      notify.sendSms(unknown, number, { personalisation: { name: 'Ada' } }), 400, 'BadRequestError', 'Template not found'));

    it('refuses missing personalisation', () => refused(
      notify.sendEmail(emailTemplate, email), 400, 'BadRequestError', 'Missing personalisation: name'));

    for (const [to, why] of [['07700 90', 'Not enough digits'], ['020 7946 0958', 'Not a UK mobile number']]) {
      it(`refuses the number ${to}`, () => refused(
        notify.sendSms(sms, to, { personalisation: { name: 'Ada' } }), 400, 'ValidationError', `phone_number ${why}`));
    }

    it('refuses an invalid email address', () => refused(
      notify.sendEmail(emailTemplate, 'not-an-email', { personalisation: { name: 'Ada' } }),
      400, 'ValidationError', 'email_address Not a valid email address'));

    it('refuses an unknown sms sender', () => refused(
      notify.sendSms(sms, number, { personalisation: { name: 'Ada' }, smsSenderId: unknown }),
      400, 'BadRequestError', `sms_sender_id ${unknown} does not exist in database for service id ${service}`));

    it('refuses an unknown reply-to address', () => refused(
      notify.sendEmail(emailTemplate, email, { personalisation: { name: 'Ada' }, emailReplyToId: unknown }),
      400, 'BadRequestError', `email_reply_to_id ${unknown} does not exist in database for service id ${service}`));

    it('refuses a team key letter', () => refused(
      team.sendLetter(letter, { personalisation: ADDRESS }),
      403, 'BadRequestError', 'Cannot send letters with a team api key'));

    it('refuses a team key precompiled letter', () => refused(
      team.sendPrecompiledLetter(reference('team_pdf'), pdf),
      403, 'BadRequestError', 'Cannot send letters with a team api key'));
  });
});
