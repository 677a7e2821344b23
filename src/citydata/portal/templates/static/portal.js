// Dataset list: search by keyword, filter by theme and department, over the index embedded in the page.
// No network access: the index is the <script type="application/json"> block the page was built with.
(function () {
  "use strict";
  var indexNode = document.getElementById("dataset-index");
  if (!indexNode) { return; }
  var index = JSON.parse(indexNode.textContent);
  var q = document.getElementById("q");
  var theme = document.getElementById("theme");
  var department = document.getElementById("department");
  var count = document.getElementById("result-count");
  var empty = document.getElementById("no-results");
  var cards = {};
  document.querySelectorAll(".dataset-card").forEach(function (card) { cards[card.dataset.name] = card; });

  function haystack(entry) {
    return [entry.name, entry.title, entry.summary, entry.theme, entry.department, entry.opening]
      .concat(entry.keywords, entry.fields, entry.formats).join(" ").toLowerCase();
  }
  index.forEach(function (entry) { entry.text = haystack(entry); });

  function matches(entry, words) {
    if (theme.value && entry.theme !== theme.value) { return false; }
    if (department.value && entry.department !== department.value) { return false; }
    return words.every(function (word) { return entry.text.indexOf(word) !== -1; });
  }

  function apply() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    index.forEach(function (entry) {
      var visible = matches(entry, words);
      if (cards[entry.name]) { cards[entry.name].hidden = !visible; }
      if (visible) { shown += 1; }
    });
    count.textContent = "共 " + shown + " 个数据集" + (shown < index.length ? "（全部 " + index.length + " 个）" : "");
    empty.hidden = shown > 0;
    var params = new URLSearchParams();
    if (q.value) { params.set("q", q.value); }
    if (theme.value) { params.set("theme", theme.value); }
    if (department.value) { params.set("department", department.value); }
    var query = params.toString();
    try {  // keep the filters in the URL, so a filtered list can be linked
      history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
    } catch (error) {  // some browsers refuse it on file:// pages: the filters still work
      console.info("filters not kept in the URL: " + error);
    }
  }

  var initial = new URLSearchParams(location.search);
  q.value = initial.get("q") || "";
  theme.value = initial.get("theme") || "";
  department.value = initial.get("department") || "";
  q.addEventListener("input", apply);
  theme.addEventListener("change", apply);
  department.addEventListener("change", apply);
  apply();
}());
