/* The live run panel: replays a run's events from the first one, then follows them live.
 *
 * A panel whose element has data-events-url connects itself through EventSource. Other pages
 * (the streaming test client) create a RunPanel and feed it events from their own transport.
 */
(function () {
  "use strict";

  var RUN_EVENTS = ["logs", "progress_bar", "complete", "error", "close"];

  function parseEventId(eventId) {
    var match = /^run-(\d+):(\d+)$/.exec(eventId || "");
    return match ? { run: match[1], seq: Number(match[2]) } : null;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function describe(value) {
    if (Array.isArray(value)) {
      if (value.length && typeof value[0] === "object") return value.length + " entries";
      return value.length ? value.join(", ") : "none";
    }
    if (value && typeof value === "object") {
      var parts = Object.keys(value).map(function (key) { return key + ": " + describe(value[key]); });
      return parts.length ? parts.join("; ") : "none";
    }
    return String(value);
  }

  /* A log time in the server's zone (the one the page's dates use and the panel names), 24-hour. */
  function formatTime(timestamp, timeZone) {
    var options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    if (timeZone) options.timeZone = timeZone;
    try {
      return new Date(timestamp).toLocaleTimeString("en-GB", options);
    } catch (error) {  // a zone this browser does not know
      delete options.timeZone;
      return new Date(timestamp).toLocaleTimeString("en-GB", options);
    }
  }

  var URL_PATTERN = /https?:\/\/[^\s"'<>]+/g;
  var URL_DISPLAY_LENGTH = 60;

  /* A log message as text nodes, long URLs shortened for display with the full URL on hover. */
  function shortenUrls(message) {
    var parts = [];
    var last = 0;
    message.replace(URL_PATTERN, function (url, offset) {
      if (url.length <= URL_DISPLAY_LENGTH) return url;
      parts.push(message.slice(last, offset));
      var shown = document.createElement("span");
      shown.className = "run-panel__url";
      shown.title = url;
      shown.textContent = url.slice(0, 40) + "…" + url.slice(-(URL_DISPLAY_LENGTH - 41));
      parts.push(shown);
      last = offset + url.length;
      return url;
    });
    parts.push(message.slice(last));
    return parts;
  }

  function RunPanel(root) {
    this.root = root;
    this.find = function (name) { return root.querySelector(".run-panel__" + name); };
    this.cancelButton = this.find("cancel");
    this.cancelButton.addEventListener("click", this.cancel.bind(this));
    this.source = null;
    this.reset(root.dataset.runId, root.dataset.status);
  }

  RunPanel.prototype.setRun = function (runId) {
    this.runId = runId;
    this.root.dataset.runId = runId;
    this.find("title").textContent = "Run " + runId;
  };

  RunPanel.prototype.reset = function (runId, status) {
    this.runId = runId;
    this.lastSeq = 0;
    this.finished = false;
    this.find("log").replaceChildren();
    this.find("summary").hidden = true;
    this.setProgress({ percentage: 0, current: 0, total: 0, message: "" });
    if (status) this.setStatus(status);
  };

  /* One run event; events already shown (a resumed or joined stream) are skipped by their seq. */
  RunPanel.prototype.handle = function (type, envelope, eventId) {
    var id = parseEventId(eventId);
    if (id) {
      if (id.seq <= this.lastSeq) return;
      this.lastSeq = id.seq;
      if (!this.runId) this.setRun(id.run);
    }
    var data = (envelope && envelope.data) || {};
    if (type === "logs") {
      this.addLog(data.level, data.message, envelope.timestamp);
    } else if (type === "progress_bar") {
      if (!this.finished) this.setStatus("running");
      this.setProgress(data);
    } else if (type === "complete") {
      this.complete(data);
    } else if (type === "error") {
      this.addLog("error", data.message + (data.code ? " (" + data.code + ")" : ""), envelope.timestamp);
    } else if (type === "close") {
      if (data.reason === "finished") {
        this.finished = true;
        this.setConnection("finished");
      } else {
        this.setConnection("reconnecting");
      }
    }
  };

  RunPanel.prototype.addLog = function (level, message, timestamp) {
    var log = this.find("log");
    var line = document.createElement("li");
    line.dataset.level = level || "info";
    var time = document.createElement("time");
    time.dateTime = timestamp || "";
    time.textContent = timestamp ? formatTime(timestamp, this.root.dataset.timeZone) : "";
    var text = document.createElement("span");
    text.append.apply(text, shortenUrls(String(message)));
    line.append(time, " ", text);
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(line);
    if (atBottom) log.scrollTop = log.scrollHeight;
  };

  RunPanel.prototype.setProgress = function (data) {
    var percentage = Number(data.percentage || 0);
    this.find("bar").style.width = percentage + "%";
    this.find("progress").setAttribute("aria-valuenow", String(percentage));
    this.find("percentage").textContent = percentage.toFixed(1) + "%";
    this.find("count").textContent = (data.current || 0) + "/" + (data.total || 0);
    this.find("message").textContent = data.message || "";
  };

  RunPanel.prototype.setStatus = function (status) {
    var badge = this.find("status");
    badge.dataset.status = status;
    badge.textContent = status;
    this.root.dataset.status = status;
    this.cancelButton.hidden = !this.root.dataset.cancelUrl || !(status === "queued" || status === "running");
  };

  RunPanel.prototype.setConnection = function (state) {
    var badge = this.find("connection");
    badge.dataset.state = state;
    badge.textContent = state;
  };

  RunPanel.prototype.complete = function (data) {
    this.finished = true;
    this.setStatus(data.status);
    var list = this.find("summary-list");
    list.replaceChildren();
    var summary = data.summary || {};
    Object.keys(summary).forEach(function (key) {
      var term = document.createElement("dt");
      term.textContent = key.replace(/_/g, " ");
      var value = document.createElement("dd");
      value.textContent = describe(summary[key]);
      list.append(term, value);
    });
    this.find("summary").hidden = false;
    this.disconnect("finished");
    this.root.dispatchEvent(new CustomEvent("runpanel:finished", { detail: data }));
  };

  RunPanel.prototype.connect = function (url) {
    var panel = this;
    this.disconnect("connecting");
    var source = new EventSource(url || this.root.dataset.eventsUrl);
    this.source = source;
    source.onopen = function () { panel.setConnection("live"); };
    RUN_EVENTS.forEach(function (type) {
      source.addEventListener(type, function (event) {
        // The browser fires "error" without data for its own connection problems.
        if (type === "error" && !event.data) {
          if (panel.finished) return;
          panel.setConnection(source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting");
          return;
        }
        panel.handle(type, JSON.parse(event.data), event.lastEventId);
        if (panel.finished) panel.disconnect("finished");
      });
    });
  };

  RunPanel.prototype.disconnect = function (state) {
    if (this.source) {
      this.source.close();
      this.source = null;
    }
    this.setConnection(state);
  };

  RunPanel.prototype.cancel = function () {
    var button = this.cancelButton;
    button.disabled = true;
    button.textContent = "Cancelling…";
    var panel = this;
    fetch(this.root.dataset.cancelUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          failed("Cancel refused: " + ((body && body.error && body.error.message) || "HTTP " + response.status));
        });
      }
    }).catch(function (error) {
      failed("Cancel failed: " + error.message + "; try again.");
    });

    function failed(message) {
      panel.addLog("error", message, new Date().toISOString());
      button.disabled = false;
      button.textContent = "Cancel";
    }
  };

  window.RunPanel = RunPanel;

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".run-panel[data-events-url]").forEach(function (root) {
      new RunPanel(root).connect();
    });
  });
})();
