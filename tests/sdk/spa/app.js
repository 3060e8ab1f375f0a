// A single-page app as Genesys's docs write one: the SDK's browser bundle, one login call,
// then getUsersMe. window.MOCK (config.js, written by the test's static server) says where
// the mock is (the SDK's environment, or its gateway setting) and which clients to use.
'use strict';
(function () {
  const platformClient = require('platformClient');
  const client = platformClient.ApiClient.instance;
  const mock = window.MOCK;
  if (mock.environment) client.setEnvironment(mock.environment);  // https://login./api.<environment>
  else client.setGateway({ host: mock.host, protocol: mock.protocol, port: mock.port });
  const flow = document.body.dataset.flow;
  const here = window.location.origin + window.location.pathname;
  const show = (id, text) => { document.getElementById(id).textContent = text; };

  const login = flow === 'pkce'
    ? client.loginPKCEGrant(mock.pkceClientId, here)
    : client.loginImplicitGrant(mock.implicitClientId, here);
  login
    .then(() => new platformClient.UsersApi().getUsersMe())
    .then((me) => {
      show('user', me.name);
      show('email', me.email);
      document.getElementById('logout').addEventListener('click', () => {
        client.logout(window.location.origin + '/signed-out.html');
      });
    })
    .catch((error) => show('failure', (error && (error.message || JSON.stringify(error))) || 'failed'));
})();
