// Client conformance: Apollo Client 4 and graphql-ws against a live UnityPlan server, configured as
// docs/clients.md tells a React app to be. Prints one JSON line per case: {"case", "ok", ...}.
// Usage: API_URL=http://127.0.0.1:8000 USERNAME=... PASSWORD=... TERRITORY=dk node client.mjs
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';

const { API_URL, USERNAME, PASSWORD, TERRITORY } = process.env;
const GRAPHQL = `${API_URL}/graphql`;
const sent = []; // every HTTP request body and header set the links sent, for the checks below

function report(name, ok, detail = {}) {
  console.log(JSON.stringify({ case: name, ok: Boolean(ok), ...detail }));
}

async function recordingFetch(url, init) {
  sent.push({ body: JSON.parse(init.body), headers: new Headers(init.headers) });
  return fetch(url, init);
}

// The configuration docs/clients.md shows: token from wherever the app keeps it, the CSRF
// preflight header on every request, persisted documents by SHA-256, WebSocket for subscriptions.
function makeClient(getToken) {
  const auth = new SetContextLink((prev) => {
    const token = getToken();
    return token ? { headers: { ...prev.headers, authorization: `Bearer ${token}` } } : {};
  });
  const persisted = new PersistedQueryLink({
    sha256: (text) => createHash('sha256').update(text).digest('hex'),
  });
  const http = new HttpLink({
    uri: GRAPHQL,
    headers: { 'graphql-require-preflight': '1' },
    fetch: recordingFetch,
  });
  const ws = new GraphQLWsLink(
    createClient({
      url: GRAPHQL.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: () => (getToken() ? { accessToken: getToken() } : {}),
      lazy: true,
    }),
  );
  // Subscriptions and anything marked `context: { transport: "ws" }` go over the
  // WebSocket; the rest over HTTP.
  const link = ApolloLink.split(
    ({ query, getContext }) => {
      const main = getMainDefinition(query);
      return main.operation === 'subscription' || getContext().transport === 'ws';
    },
    ws,
    ApolloLink.from([auth, persisted, http]),
  );
  return { client: new ApolloClient({ link, cache: new InMemoryCache() }), ws };
}

const TERRITORIES = gql`
  query ClientTerritories {
    territories(first: 50) {
      nodes { code name }
    }
  }
`;
const LOGIN = gql`
  mutation ClientLogin($input: LoginInput!) {
    login(input: $input) { accessToken user { username } }
  }
`;
const ME = gql`
  query ClientMe {
    me { username territory { code } }
  }
`;
const BAD_TERRITORY = gql`
  query ClientBadTerritory {
    communities(territory: "Not A Territory") { nodes { name } }
  }
`;

const FIRST_COMMUNITY = gql`
  query ClientFirstCommunity {
    communities(territory: "dk", first: 1) { nodes { id } }
  }
`;
const ACTIVITY = gql`
  subscription ClientActivity($id: ID!) {
    communityActivity(communityId: $id) { id kind occurredAt }
  }
`;
const JOIN = gql`
  mutation ClientJoin($id: ID!) {
    joinCommunity(input: { communityId: $id }) { joined }
  }
`;
const LEAVE = gql`
  mutation ClientLeave($id: ID!) {
    leaveCommunity(input: { communityId: $id }) { wasMember }
  }
`;

let token = null;
const first = makeClient(() => token);

// 1. A query.
{
  const { data, error } = await first.client.query({ query: TERRITORIES, errorPolicy: 'all' });
  const codes = data?.territories.nodes.map((t) => t.code) ?? [];
  report('query', !error && codes.includes('dk') && codes.includes('se'), { codes });
}

// 2. A persisted document by hash: a second client (empty cache) sends the hash alone.
{
  const second = makeClient(() => null);
  const before = sent.length;
  const { data, error } = await second.client.query({ query: TERRITORIES, errorPolicy: 'all' });
  const requests = sent.slice(before).map((r) => ({
    hash: r.body.extensions?.persistedQuery?.sha256Hash ?? null,
    text: 'query' in r.body,
  }));
  report(
    'persisted-document-by-hash',
    !error && data?.territories.nodes.length > 0 && requests.length === 1 && requests[0].hash && !requests[0].text,
    { requests },
  );
}

// 3. A mutation (login) with the CSRF preflight header.
{
  const before = sent.length;
  const { data, error } = await first.client.mutate({
    mutation: LOGIN,
    variables: { input: { identifier: USERNAME, password: PASSWORD, territory: TERRITORY } },
    errorPolicy: 'all',
  });
  token = data?.login.accessToken ?? null;
  const headers = sent.slice(before).map((r) => r.headers.get('graphql-require-preflight'));
  report('mutation-with-preflight-header', !error && token && headers.every((h) => h === '1'), {
    headers,
    error: error?.message,
  });
}

// 4. An authorized query, the token in the Authorization header.
{
  const { data, error } = await first.client.query({ query: ME, errorPolicy: 'all' });
  report('authorized-query', !error && data?.me.username === USERNAME, { me: data?.me });
}

// 5. Error codes as the client reads them.
{
  const anonymous = makeClient(() => null);
  const me = await anonymous.client.query({ query: ME, errorPolicy: 'all' });
  const bad = await anonymous.client.query({ query: BAD_TERRITORY, errorPolicy: 'all' });
  const codes = [me.error, bad.error].map((e) =>
    CombinedGraphQLErrors.is(e) ? e.errors.map((x) => [x.extensions?.code, x.extensions?.field ?? null]) : null,
  );
  report(
    'error-codes',
    JSON.stringify(codes) === JSON.stringify([[['UNAUTHENTICATED', null]], [['BAD_USER_INPUT', 'territory']]]),
    { codes },
  );
  // Without the preflight header and JSON, the request looks forgeable: refused, still coded.
  const raw = await fetch(GRAPHQL, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  const body = await raw.json();
  report('csrf-refusal-is-coded', body.errors?.[0]?.extensions?.code === 'CSRF_BLOCKED', {
    status: raw.status,
    code: body.errors?.[0]?.extensions?.code,
  });
}

// 6. The WebSocket link (graphql-transport-ws), authenticated by connection_init's accessToken.
{
  const { data, error } = await first.client.query({
    query: ME,
    context: { transport: 'ws' },
    fetchPolicy: 'network-only',
    errorPolicy: 'all',
  });
  report('websocket-query', !error && data?.me.username === USERNAME, {
    me: data?.me,
    error: error?.message,
  });
}

// 7. A subscription over the WebSocket link: follow a public community, then join and leave it
// until its activity arrives (the subscription has no "ready" message to wait for, so the
// mutations repeat, a bounded number of times, instead of a sleep).
{
  const { data } = await first.client.query({ query: FIRST_COMMUNITY, fetchPolicy: 'network-only' });
  const communityId = data.communities.nodes[0].id;
  let received = null;
  let failure = null;
  const subscription = first.client
    .subscribe({ query: ACTIVITY, variables: { id: communityId } })
    .subscribe({
      next: (result) => {
        received = result;
      },
      error: (e) => {
        failure = e;
      },
    });
  for (let attempt = 0; attempt < 40 && !received && !failure; attempt += 1) {
    await first.client.mutate({ mutation: JOIN, variables: { id: communityId }, errorPolicy: 'all' });
    await first.client.mutate({ mutation: LEAVE, variables: { id: communityId }, errorPolicy: 'all' });
  }
  subscription.unsubscribe();
  const kind = received?.data?.communityActivity?.kind;
  report('subscription', !failure && (kind === 'MEMBER_JOINED' || kind === 'MEMBER_LEFT'), {
    kind,
    error: failure?.message,
  });
  first.ws.client.dispose();
}
process.exit(0);
