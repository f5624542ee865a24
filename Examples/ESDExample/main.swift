// `compare esd MODEL --json` through the library:
//   swift run ESDExample [Examples/data/weights_mlp.safetensors]
import Compare

let path = CommandLine.arguments.dropFirst().first ?? "Examples/data/weights_mlp.safetensors"
do {
  let model = try ModelWeights(path: path)       // a file, a Hugging Face folder, a state dict...
  let result = try model.esd()                   // weightwatcher's analyze() columns, per layer
  for warning in result.warnings { printToStandardError(warning) }
  print(result.json().serialized(pretty: true))  // or result.text, result.csv()
} catch {
  printToStandardError("Error: \(error)")
  exit(1)
}
