// The org chart's "Open team" links, opened in place. Each link is an ordinary link to that
// person's own chart (/org?root=<id>) and works without this script; with it, a plain click
// fetches the same team's reporting lines alone (&fragment=1) and puts them under the card, so
// reading down a company does not lose one's place. Anything that goes wrong follows the link.
(function () {
  "use strict";

  function openInPlace(link) {
    var url = new URL(link.href);
    url.searchParams.set("fragment", "1");
    link.setAttribute("aria-busy", "true");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html;
        // The fragment draws the person again with their team below; only the team is new here.
        var team = template.content.querySelector(".org-tree > .org-node > details");
        var node = link.closest(".org-node");
        if (!team || !node) throw new Error("no team in the answer");
        node.appendChild(team);
        link.remove();
        // Keyboard and screen-reader users continue inside the team they opened.
        var summary = team.querySelector("summary");
        if (summary) summary.focus();
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.org-open");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    // A click meant for a new tab or window keeps the browser's behaviour.
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    openInPlace(link).catch(function () {
      window.location.href = link.href;
    });
  });
})();
