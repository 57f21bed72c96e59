// The part of the Python extension's API (@vscode/python-extension) GradLens uses: the selected
// interpreter of a resource. The selection is the fakePython.interpreter setting; empty: none.
const vscode = require('vscode');

exports.activate = () => ({
  environments: {
    getActiveEnvironmentPath: () => {
      const selected = vscode.workspace.getConfiguration('fakePython').get('interpreter') || '';
      return { id: selected || 'none', path: selected };
    },
    resolveEnvironment: async (environment) => {
      const selected = typeof environment === 'string' ? environment : environment.path;
      return selected ? { id: selected, path: selected, executable: { uri: vscode.Uri.file(selected) } } : undefined;
    },
  },
});
