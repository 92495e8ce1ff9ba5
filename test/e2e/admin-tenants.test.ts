// Tenant administration through the API with the admin key: a tenant created from the acme template is
// provisioned by its workflow (data, reader role, documents) and answers with its own key; keys and
// settings are managed per tenant; tenant keys cannot administer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readSse } from '../helpers/sse.ts';
import { fresh, startStack, type TestStack } from '../helpers/stack.ts';

const ADMIN = { authorization: 'Bearer dev-admin-key', 'content-type': 'application/json' };
const TENANT = 'admin_e2e';

describe('tenant administration', () => {
  let stack: TestStack;
  let base: string;
  let apiKey: string;
  before(async () => {
    stack = await startStack({ api: true });
    base = stack.apiUrl!;
  });
  after(() => stack.close());

  const ask = async (key: string, message: string) => {
    const res = await fetch(`${base}/v1/turns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ sessionId: 'admin-e2e', message }),
    });
    assert.equal(res.status, 200);
    return (await readSse(res)).find((e) => e.event === 'done')!.data as { answer: string; intent: string; sources?: { slug: string }[]; fallbacks: string[] };
  };

  it('creates a tenant from a template, provisioned by a workflow, answering with its own key', async () => {
    const res = await fetch(`${base}/v1/admin/tenants`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ id: TENANT, name: 'Admin e2e shop', template: 'acme', settings: { generation: { providers: ['anthropic'], strategy: 'single' } } }),
    });
    const body = (await res.json()) as { apiKey: string; settings: { generation: { strategy: string } }; provisioning: { status: string; result?: { orders: number; documents: number } } };
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.match(body.apiKey, /^tf_/);
    assert.equal(body.settings.generation.strategy, 'single');
    assert.equal(body.provisioning.status, 'ready');
    assert.ok(body.provisioning.result!.orders >= 20_000, 'the template shop’s orders');
    assert.equal(body.provisioning.result!.documents, 6);
    apiKey = body.apiKey;

    const policy = await ask(apiKey, fresh('How many days do I have to return something?'));
    assert.equal(policy.intent, 'knowledge');
    assert.match(policy.answer, /30 days/, 'acme’s policy, copied to the new tenant');
    const revenue = await ask(apiKey, fresh('What was our revenue last month?'));
    assert.equal(revenue.intent, 'analytics');
    assert.ok(!revenue.fallbacks.includes('runSqlAgent'), 'the SQL agent ran on the new tenant’s own schema');
    assert.match(revenue.answer, /\$[\d,]+/);
  });

  it('refuses a second tenant with the same id, and issues another key instead', async () => {
    const again = await fetch(`${base}/v1/admin/tenants`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ id: TENANT }) });
    assert.equal(again.status, 409);
    const key = await fetch(`${base}/v1/admin/tenants/${TENANT}/keys`, { method: 'POST', headers: ADMIN });
    assert.equal(key.status, 201);
    const { apiKey: second } = (await key.json()) as { apiKey: string };
    assert.notEqual(second, apiKey);
    const settings = await fetch(`${base}/v1/settings`, { headers: { authorization: `Bearer ${second}` } });
    assert.equal(settings.status, 200);
  });

  it('changes a tenant’s settings as the admin, with the same validation as the tenant’s own route', async () => {
    const ok = await fetch(`${base}/v1/admin/tenants/${TENANT}/settings`, { method: 'PATCH', headers: ADMIN, body: JSON.stringify({ exactCache: { enabled: false } }) });
    assert.equal(ok.status, 200);
    const mine = (await (await fetch(`${base}/v1/settings`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { settings: { exactCache: { enabled: boolean } } };
    assert.equal(mine.settings.exactCache.enabled, false);
    const bad = await fetch(`${base}/v1/admin/tenants/${TENANT}/settings`, { method: 'PATCH', headers: ADMIN, body: JSON.stringify({ exactCache: { enabled: 'yes' } }) });
    assert.equal(bad.status, 400);
    const unknown = await fetch(`${base}/v1/admin/tenants/nobody_here/settings`, { method: 'PATCH', headers: ADMIN, body: '{}' });
    assert.equal(unknown.status, 404);
  });

  it('lists tenants for the admin only; a tenant key cannot administer', async () => {
    const list = (await (await fetch(`${base}/v1/admin/tenants`, { headers: ADMIN })).json()) as { tenants: { id: string }[] };
    assert.deepEqual(list.tenants.map((t) => t.id).filter((id) => ['acme', 'globex', TENANT].includes(id)).sort(), ['acme', TENANT, 'globex'].sort());
    const asTenant = await fetch(`${base}/v1/admin/tenants`, { headers: { authorization: 'Bearer dev-acme-key' } });
    assert.equal(asTenant.status, 403);
    const create = await fetch(`${base}/v1/admin/tenants`, { method: 'POST', headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json' }, body: JSON.stringify({ id: 'sneaky' }) });
    assert.equal(create.status, 403);
    const badId = await fetch(`${base}/v1/admin/tenants`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ id: 'Bad-Id' }) });
    assert.equal(badId.status, 400);
  });
});
