// Effects built and never run: a statement whose value is an Effect does nothing (`log.publish(...)`
// without `yield*`, `Effect.logInfo("x")` on its own line), the mistake floating-promise rules
// catch for promises but no linter knows for Effects. Found with the TypeScript type checker: an
// expression statement whose type carries Effect's type id ("~effect/Effect"). `void effect` says
// the value is dropped on purpose. Run by `npm run lint` (scripts/check-effects.ts).
import ts from "typescript"

export interface UnusedEffect {
  readonly file: string
  readonly line: number
  readonly text: string
}

const effectTypeId = "~effect/Effect"

const isEffect = (checker: ts.TypeChecker, type: ts.Type): boolean =>
  type.isUnion()
    ? type.types.some((t) => isEffect(checker, t))
    : checker.getPropertiesOfType(type).some((p) => p.getName() === effectTypeId)

/** Every unused Effect in the files the tsconfig at `configPath` includes (outside node_modules). */
export const unusedEffects = (configPath: string, only?: (file: string) => boolean): Array<UnusedEffect> => {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"))
      }
    }
  )
  if (parsed === undefined) throw new Error(`cannot read ${configPath}`)
  const program = ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true })
  const checker = program.getTypeChecker()
  const found: Array<UnusedEffect> = []
  for (const source of program.getSourceFiles()) {
    if (source.isDeclarationFile || source.fileName.includes("/node_modules/")) continue
    if (only !== undefined && !only(source.fileName)) continue
    const visit = (node: ts.Node): void => {
      if (ts.isExpressionStatement(node)) {
        const expression = node.expression
        const dropped =
          ts.isVoidExpression(expression) || ts.isYieldExpression(expression) || ts.isAwaitExpression(expression)
        if (!dropped && isEffect(checker, checker.getTypeAtLocation(expression))) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source))
          found.push({
            file: source.fileName,
            line: line + 1,
            text: node.getText(source).split("\n")[0]!.slice(0, 100)
          })
        }
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return found
}
