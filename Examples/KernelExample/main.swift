// `compare kernel --test F:logits --train F:logits_train --test-labels F:labels
// --train-labels F:labels_train` through the library:
//   swift run KernelExample [Examples/data/ensemble.npz]
import Compare

let file = CommandLine.arguments.dropFirst().first ?? "Examples/data/ensemble.npz"
do {
  let inputs = try KernelInputs(test: [file + ":logits"], train: [file + ":logits_train"],  // shards: more refs
                                testLabels: file + ":labels", trainLabels: file + ":labels_train")
  let result = try KernelRequest(k: 3).run(inputs)  // also weighting:, ties:, sizes:, rows:
  print(result.text, terminator: "")                 // or result.json()
} catch {
  printToStandardError("Error: \(error)")
  exit(1)
}
