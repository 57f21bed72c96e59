// Stands in for VS Code in the headless dashboard tests: acquireVsCodeApi()
// records what the page posts, and the state it saves survives reloads (in
// sessionStorage), as VS Code keeps a webview's state. The body gets VS Code's
// theme class, as VS Code gives it.
(function () {
  const posted = [];
  window.gradlensPosted = posted;
  window.gradlensStateSaves = 0;
  document.body.className = sessionStorage.getItem('gradlens-theme') || 'vscode-dark';
  window.acquireVsCodeApi = function () {
    return {
      postMessage(message) {
        posted.push(JSON.parse(JSON.stringify(message)));
      },
      getState() {
        const saved = sessionStorage.getItem('gradlens-state');
        return saved === null ? undefined : JSON.parse(saved);
      },
      setState(state) {
        sessionStorage.setItem('gradlens-state', JSON.stringify(state));
        window.gradlensStateSaves++;
      },
    };
  };
})();
