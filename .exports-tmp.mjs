import ts from 'typescript';
const [,, file] = process.argv;
const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, allowJs: false, noEmit: true });
const checker = program.getTypeChecker();
const sf = program.getSourceFile(file);
const sym = checker.getSymbolAtLocation(sf);
const out = [];
for (const e of checker.getExportsOfModule(sym)) {
  let t = e; if (t.flags & ts.SymbolFlags.Alias) t = checker.getAliasedSymbol(t);
  const d = t.declarations?.[0];
  const isType = !(t.flags & (ts.SymbolFlags.Value)) ;
  out.push(`${e.name} ${isType ? 'type' : 'value'} ${d ? d.getSourceFile().fileName.replace(process.cwd() + '/', '') : '?'}`);
}
console.log(out.join('\n'));
