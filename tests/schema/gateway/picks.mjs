// A second subgraph, `picks`, that only holds references to UnityPlan's entities: every field the
// gateway is asked for beyond `id`/`code` has to come from UnityPlan's `_entities`.
// Usage: node picks.mjs            (serves on a free 127.0.0.1 port, prints {"url": ...} once ready)
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

export const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Community @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Territory @key(fields: "code", resolvable: false) {
    code: String!
  }

  type Query {
    "The communities with these global ids, as references UnityPlan resolves."
    picks(ids: [ID!]!): [Community!]!
    "A territory by code, as a reference UnityPlan resolves."
    territoryPick(code: String!): Territory!
  }
`);

const resolvers = {
  Query: {
    picks: (_, { ids }) => ids.map((id) => ({ __typename: 'Community', id })),
    territoryPick: (_, { code }) => ({ __typename: 'Territory', code }),
  },
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    plugins: [ApolloServerPluginInlineTraceDisabled()], // quiet: stdout carries only the URL line
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  console.log(JSON.stringify({ url }));
}
