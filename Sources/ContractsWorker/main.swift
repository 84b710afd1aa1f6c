import BlytzData
import Contracts

ServiceMain.main(functions: Contracts.functions, migrations: Contracts.migrations)
