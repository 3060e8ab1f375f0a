// Genesys's JavaScript SDK in Node, unmodified, against the mock: client credentials,
// getTokensMe, and getUsersMe's user-context error. Prints one JSON line for the test.
// Usage: node client_credentials.js <mock base URL> (client id and secret on stdin, one line each).
'use strict';
const platformClient = require('purecloud-platform-client-v2');

async function main() {
  const base = new URL(process.argv[2]);
  const [clientId, clientSecret] = require('fs').readFileSync(0, 'utf8').split('\n');
  const client = platformClient.ApiClient.instance;
  client.setGateway({ host: base.hostname, protocol: base.protocol.replace(':', ''),
                      port: Number(base.port) });
  const auth = await client.loginClientCredentialsGrant(clientId, clientSecret);
  const tokenInfo = await new platformClient.TokensApi().getTokensMe();
  let usersMeError = null;
  try {
    await new platformClient.UsersApi().getUsersMe();
  } catch (error) {
    usersMeError = error;  // the error body (the SDK rejects with it unless returnExtended)
  }
  process.stdout.write(JSON.stringify({
    hasToken: typeof auth.accessToken === 'string' && auth.accessToken.length > 0,
    tokenInfo, usersMeError }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`node SDK failed: ${error && (error.message || JSON.stringify(error))}\n`);
  process.exit(1);
});
