// Search over the names and doc comments of the model (search-index.js sets the index).
// Results are built with textContent only: a doc comment is shown as text, never as markup.
(function () {
  "use strict";
  var input = document.getElementById("search");
  var list = document.getElementById("results");
  var index = window.DDD_SEARCH_INDEX || [];
  var root = document.body.getAttribute("data-root") || "";
  if (!input || !list) {
    return;
  }

  // Every word must appear in the name, the context or the doc comment.
  function matches(entry, words) {
    var text = (entry.name + " " + entry.context + " " + entry.doc).toLowerCase();
    return words.every(function (word) { return text.indexOf(word) !== -1; });
  }

  // A hit on the name ranks above a hit in the doc comment.
  function rank(entry, words) {
    var name = entry.name.toLowerCase();
    return words.some(function (word) { return name.indexOf(word) !== -1; }) ? 0 : 1;
  }

  function show(hits) {
    list.replaceChildren();
    hits.slice(0, 30).forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = root + entry.url;
      link.textContent = entry.name;
      var kind = document.createElement("span");
      kind.className = "kind-of";
      kind.textContent = entry.kind + (entry.context ? " in " + entry.context : "");
      item.appendChild(link);
      item.appendChild(kind);
      if (entry.doc) {
        var doc = document.createElement("p");
        doc.textContent = entry.doc;
        item.appendChild(doc);
      }
      list.appendChild(item);
    });
    list.hidden = hits.length === 0;
  }

  input.addEventListener("input", function () {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      show([]);
      return;
    }
    var hits = index.filter(function (entry) { return matches(entry, words); });
    hits.sort(function (a, b) { return rank(a, words) - rank(b, words); });
    show(hits);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      input.value = "";
      show([]);
    }
  });
})();
