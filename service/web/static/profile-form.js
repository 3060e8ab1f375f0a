// The profile form without clutter: hide the fields the chosen grant does not use.
// Progressive: without this script every field is shown and the server applies the same
// rules (service/web/profile_form.py GRANT_GROUPS); an access token given means grant 0.
(function () {
  "use strict";
  var form = document.getElementById("profile-form");
  if (!form) { return; }
  var grant = form.querySelector("#grant_type");
  var token = form.querySelector("#access_token");
  var groups = form.querySelectorAll("fieldset[data-grants]");
  var grantFields = form.querySelector("#grant-fields");

  function update() {
    var tokenGiven = token && token.value.trim() !== "";
    var chosen = tokenGiven ? "0" : grant.value;
    grantFields.hidden = tokenGiven;
    groups.forEach(function (group) {
      var shown = group.getAttribute("data-grants").split(" ").indexOf(chosen) >= 0;
      group.hidden = !shown;
      group.disabled = !shown;  // a hidden field is not sent, as if it were not asked
    });
  }
  grant.addEventListener("change", update);
  if (token) { token.addEventListener("input", update); }
  update();
})();
