// Lints one SDL file with @graphql-eslint and prints one JSON line per problem, then a summary.
// Usage: node lint.mjs PATH/TO/schema.graphql      (tests/test_schema_lint.py runs it on schema.graphql)
// Exit status: 0 when the file has no problem, 1 otherwise, 2 on a usage error.
//
// One file per process: graphql-eslint keeps the first graphql-config (the schema its schema-aware
// rules read) for the life of the process, so a second file would be checked against the first's schema.
import path from 'node:path';
import { ESLint } from 'eslint';
import graphql from '@graphql-eslint/eslint-plugin';

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  console.error('usage: node lint.mjs SCHEMA.graphql');
  process.exit(2);
}
const schemaPath = path.resolve(file);

const rules = {
  // Naming and casing (PascalCase types, camelCase fields and arguments, UPPER_CASE enum values, no
  // `get`/`query` prefixes on Query fields, no `Type`/`Enum` affixes), deprecations with a reason,
  // unique names, no type that no root field reaches, no `#` comment posing as a description.
  ...graphql.configs['flat/schema-recommended'].rules,
  // Relay: `<X>Connection` has `edges` and `pageInfo: PageInfo!`, `<X>Edge` has `cursor` and `node`,
  // PageInfo has its four fields, and every field returning a connection takes `first` and `after`.
  ...graphql.configs['flat/schema-relay'].rules,
  // Forward pagination only: there is no `last`/`before` anywhere in this API.
  '@graphql-eslint/relay-arguments': ['error', { includeBoth: false }],
  // As the Relay spec has it: an edge's node may be any object (a CommunityMember is not a Node), and
  // plain lists (`nodes`, `roles`) are fine beside connections.
  '@graphql-eslint/relay-edge-types': [
    'error',
    { withEdgeSuffix: true, shouldImplementNode: false, listTypeCanWrapOnlyEdgeType: false },
  ],
  // Issue 15: a description on every type, field, argument, input field and enum value.
  '@graphql-eslint/require-description': [
    'error',
    {
      types: true,
      rootField: true,
      DirectiveDefinition: true,
      FieldDefinition: true,
      InputValueDefinition: true,
      EnumValueDefinition: true,
    },
  ],
  // Value objects and payloads (PageInfo, QuietHours, AuthPayload, ...) have no identity of their own;
  // that every type WITH an id is a Node is checked by tests/test_node.py.
  '@graphql-eslint/strict-id-in-types': 'off',
  // It cannot tell a word from a prefix (`User.username`, a field of the kept `me` contract) and has
  // no exception list; the naming rules above still hold every field to camelCase.
  '@graphql-eslint/no-typename-prefix': 'off',
  // Order carries meaning (most used first, related fields together): never sorted alphabetically.
  '@graphql-eslint/alphabetize': 'off',
};

const eslint = new ESLint({
  cwd: path.dirname(schemaPath),
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.graphql'],
      languageOptions: {
        parser: graphql.parser,
        parserOptions: { graphQLConfig: { schema: schemaPath } },
      },
      plugins: { '@graphql-eslint': graphql },
      rules,
    },
  ],
});

const [result] = await eslint.lintFiles([schemaPath]);
const counts = {};
for (const m of result.messages) {
  const rule = m.ruleId ?? 'fatal';
  counts[rule] = (counts[rule] ?? 0) + 1;
  console.log(JSON.stringify({ rule, line: m.line, column: m.column, message: m.message }));
}
console.log(JSON.stringify({ summary: counts, total: result.messages.length }));
process.exit(result.messages.length > 0 ? 1 : 0);
